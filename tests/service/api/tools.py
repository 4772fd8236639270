"""External tools that some API tests drive (a browser, Node.js): where to find them, and what to do when
they are missing. Outside CI such a test skips, naming the package to install; under CI=true it fails,
because CI installs them (`make test` runs scripts/install-frontend-tools.sh)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.support.tools import tool_missing

ROOT = Path(__file__).resolve().parents[3]
# Screenshots and other files worth keeping from a CI run (.gitlab-ci.yml keeps this folder as artifacts).
ARTIFACTS = ROOT / "var" / "artifacts"
CHROMIUM = Path(os.environ.get("CRM_TEST_CHROMIUM", "/usr/bin/chromium"))
FRONTEND_TOOLS = ROOT / ".tools" / "frontend" / "node_modules"


def chromium() -> Path:
    if not CHROMIUM.is_file():
        tool_missing(f"Chromium at {CHROMIUM}", "apt-get install chromium (the Debian package 'chromium')")
    return CHROMIUM


def node_tools() -> Path:
    if shutil.which("node") is None:
        tool_missing("Node.js", "apt-get install nodejs npm")
    if not (FRONTEND_TOOLS / ".bin" / "tsc").exists():
        tool_missing(
            "The client tools (openapi-typescript, typescript)", "bash scripts/install-frontend-tools.sh (npm ci)"
        )
    return FRONTEND_TOOLS
