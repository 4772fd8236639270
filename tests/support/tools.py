"""Checks that need a tool from outside Python (Node.js, a browser, ...): skipped with the reason on a developer's
machine that lacks it, failed under CI, where nothing may be skipped.

``make test`` installs what it can first (scripts/install-ci-tools.sh); a test that still finds its tool missing
calls ``tool_missing``. CI is recognised by ``CI=true`` (GitLab, GitHub and most others set it).
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def tool_missing(what: str, how_to_get_it: str) -> NoReturn:
    """Skip the calling test (fail it under CI), naming what is missing and how to get it."""
    message = f"{what} is missing: {how_to_get_it}"
    if running_in_ci():
        pytest.fail(f"{message}. Under CI=true nothing may be skipped.", pytrace=False)
    pytest.skip(f"{message}. Skipped outside CI only; CI=true makes this a failure.")
