"""HEAD's migrations as the pipeline runs them, timed: the expand phase, and the contract phase where there is one."""

from __future__ import annotations

import subprocess
import time

from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.releases.installation import HEAD, Release
from tests.releases.serving import Fleet, run_command


def head_of(release: Release) -> str:
    config = Config()
    config.set_main_option("script_location", str(release.root / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def pending(release: Release, from_revision: str, to_revision: str) -> list[str]:
    """The revisions of ``release`` after ``from_revision`` up to ``to_revision``, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(release.root / "migrations"))
    steps = ScriptDirectory.from_config(config).iterate_revisions(to_revision, from_revision)
    return [step.revision for step in reversed(list(steps))]


def migrate(fleet: Fleet, revision: str, *options: str) -> tuple[float, str | None]:
    """HEAD's migrations to ``revision`` ("head": its own ``crm migrate``): the seconds they took, and the error
    when they failed (PostgreSQL's message and statement)."""
    started = time.monotonic()
    try:
        if revision == "head":
            run_command(HEAD, fleet, "migrate", *options)
        else:
            script = "import asyncio,sys; from adapters.sql.migrate import upgrade; asyncio.run(upgrade(*sys.argv[1:]))"
            command = [str(HEAD.bin / "python"), "-c", script, fleet.database_url, revision]
            done = subprocess.run(command, cwd=HEAD.root, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(done.stderr)
    except RuntimeError as error:
        lines = str(error).splitlines()
        said = [line for line in lines if line.startswith(("sqlalchemy.exc.", "[SQL:")) or "Error:" in line]
        return time.monotonic() - started, " ".join(said[-2:]) or lines[-1]
    return time.monotonic() - started, None


def has_contract_phase(fleet: Fleet) -> bool:
    return "--contract" in run_command(HEAD, fleet, "migrate", "--help")
