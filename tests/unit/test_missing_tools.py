"""tests/support/tools.py: a check whose outside tool is missing is skipped on a developer's machine, with the
reason, and fails under CI=true, where nothing may be skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
NEEDS_A_TOOL = """
from tests.support.tools import tool_missing

def test_needs_a_tool():
    tool_missing("frobnicate", "apt-get install frobnicate")
"""


@pytest.mark.parametrize(("ci", "outcome"), [(None, "1 skipped"), ("true", "1 failed")])
def test_a_missing_tool_skips_outside_ci_and_fails_in_it(tmp_path: Path, ci: str | None, outcome: str) -> None:
    (tmp_path / "test_needs_a_tool.py").write_text(NEEDS_A_TOOL)
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    environment["PYTHONPATH"] = str(REPOSITORY)
    if ci:
        environment["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-rsf", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
        env=environment,
    )
    assert outcome in result.stdout, result.stdout
    assert "frobnicate is missing: apt-get install frobnicate" in result.stdout
