"""External tools that some API tests drive (a browser, Node.js): where to find them, and what to do when
they are missing. Outside CI such a test skips, naming the package to install; under CI=true it fails,
because CI installs them (`make test` runs scripts/install-frontend-tools.sh)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Screenshots and other files worth keeping from a CI run (.gitlab-ci.yml keeps this folder as artifacts).
ARTIFACTS = ROOT / "var" / "artifacts"
CHROMIUM = Path(os.environ.get("CRM_TEST_CHROMIUM", "/usr/bin/chromium"))
FRONTEND_TOOLS = ROOT / ".tools" / "frontend" / "node_modules"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(message: str) -> None:
    """Skip the test, or fail it under CI, where every tool must be present."""
    if in_ci():
        pytest.fail(f"{message} (CI must install it: bash scripts/install-frontend-tools.sh)")
    pytest.skip(message)


def chromium() -> Path:
    if not CHROMIUM.is_file():
        missing(f"Chromium is not installed at {CHROMIUM}: apt-get install chromium (Debian package 'chromium')")
    return CHROMIUM


def node_tools() -> Path:
    if shutil.which("node") is None:
        missing("Node.js is not installed: apt-get install nodejs npm")
    if not (FRONTEND_TOOLS / ".bin" / "tsc").exists():
        missing("The client tools are not installed: bash scripts/install-frontend-tools.sh (npm ci)")
    return FRONTEND_TOOLS
