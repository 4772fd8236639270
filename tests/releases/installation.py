"""Installing a release (a commit of this repository) into a folder of its own, with its own lock file.

A release is installed as production installs it: its files at that commit (``git archive``, so the clone's own
worktrees and index stay untouched), then ``uv sync --frozen --no-default-groups`` with that commit's ``uv.lock``.
The uv cache makes the second and later installs take about a second.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
CONFIGURATION = Path(__file__).with_name("previous_release.toml")
# The other way to name the old release: the last commit before the newest migration was added.
BEFORE_NEWEST_MIGRATION = "before-newest-migration"
_FULL_SHA = re.compile(r"[0-9a-f]{40}")


class ReleaseUnavailable(Exception):
    """The release cannot be installed on this machine (a commit missing from the clone, no uv)."""

    def __init__(self, what: str, how_to_get_it: str) -> None:
        super().__init__(f"{what}: {how_to_get_it}")
        self.what = what
        self.how_to_get_it = how_to_get_it


@dataclass(frozen=True, slots=True)
class Release:
    name: str
    # Its code, and the working directory of its processes: ``python -m granian`` imports from there first.
    root: Path
    bin: Path  # its virtual environment's scripts

    @property
    def crm(self) -> Path:
        return self.bin / "crm"


# The code under test: this checkout, in the environment that runs the tests.
HEAD = Release("HEAD", REPOSITORY, Path(sys.executable).parent)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def configured_commit() -> str:
    """The previous release named in previous_release.toml: a full sha."""
    commit = str(tomllib.loads(CONFIGURATION.read_text())["commit"]).strip().lower()
    if not _FULL_SHA.fullmatch(commit):
        raise ValueError(f"{CONFIGURATION.name}: commit must be a full 40-character sha, not {commit!r}")
    return commit


def commit_before_newest_migration() -> str:
    """The parent of the commit that added HEAD's newest migration: the last release that had not seen it."""
    versions = sorted((REPOSITORY / "migrations" / "versions").glob("[0-9]*.py"))
    newest = versions[-1].relative_to(REPOSITORY).as_posix()
    added = _git("log", "--diff-filter=A", "--format=%H", "-1", "--", newest)
    if not added:
        raise RuntimeError(f"{newest} is not committed yet: commit it, or name the old release")
    return _git("rev-parse", f"{added}^")


def resolve(name: str) -> str:
    """A full sha for a commit name (sha, tag, branch) or ``before-newest-migration``."""
    if name == BEFORE_NEWEST_MIGRATION:
        return commit_before_newest_migration()
    return _git("rev-parse", "--verify", f"{name}^{{commit}}")


def find_uv() -> Path | None:
    """uv as the Makefile finds it: ``UV``, else on PATH, else the private copy ``make install`` bootstraps."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(REPOSITORY / ".tools" / "bin" / "uv")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _uv_environment() -> dict[str, str]:
    # The tests' own virtual environment must not leak into the release's installation.
    dropped = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONHOME")
    return {name: value for name, value in os.environ.items() if name not in dropped}


def install(commit: str, folder: Path) -> Release:
    """The release at ``commit`` (a full sha), installed into ``folder`` with its own lock file."""
    present = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPOSITORY, capture_output=True, check=False
    )
    if present.returncode != 0:
        raise ReleaseUnavailable(
            f"the previous release's commit {commit}",
            "fetch the whole history (`git fetch --unshallow`; in GitLab CI, GIT_DEPTH: 0 on the job)",
        )
    uv = find_uv()
    if uv is None:
        raise ReleaseUnavailable("uv", "`make install` bootstraps it into .tools/bin")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=REPOSITORY, capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as files:
        # The "data" filter came in 3.11.4; our own commit's archive is trusted where it is missing (Debian's 3.11.2).
        if hasattr(tarfile, "data_filter"):
            files.extractall(folder, filter="data")
        else:
            files.extractall(folder)
    # --no-default-groups: what the production image installs; the same interpreter as the tests', never a download.
    sync = [str(uv), "sync", "--frozen", "--no-default-groups", "--python", sys.executable, "--quiet"]
    done = subprocess.run(sync, cwd=folder, env=_uv_environment(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"uv sync of {commit} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return Release(commit[:7], folder, folder / ".venv" / "bin")
