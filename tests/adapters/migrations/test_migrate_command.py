"""``crm migrate`` as the deploy pipeline's Job runs it: it says what it applied; on a schema ahead of the release
it changes nothing and succeeds (a rollback); a migration that cannot get its lock fails in one line."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from adapters.sql.migrate import alembic_config, upgrade
from tests.adapters.migrations.conftest import ScratchDatabase, long_reader, on, schema_dump


async def crm_migrate(
    url: str, data_dir: Path, *arguments: str, together: bool = False, **limits: str
) -> tuple[int, str]:
    """Exit status and standard error of ``crm migrate ARGUMENTS`` on ``url``; with ``together``, standard output
    (the log lines) and standard error in one pipe, in the order the command wrote them, as a Job's log shows them."""
    environment = {
        **os.environ,
        "DATABASE_URL": url.replace("postgresql+asyncpg://", "postgresql://"),
        "CRM_ENV": "test",
        "CRM_DATA_DIR": str(data_dir),
        "SECRET_KEY": "migrate-command-test-" + "s" * 32,
        **limits,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm",
        "migrate",
        *arguments,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if together else asyncio.subprocess.PIPE,
    )
    output, error = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, (output if together else error).decode()


def _log_lines(output: str) -> list[int]:
    """The indexes of the lines the migrations logged (alembic's)."""
    return [index for index, line in enumerate(output.splitlines()) if "alembic.runtime.migration" in line]


def _version(connection: Connection) -> str:
    return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())


async def test_migrate_applies_the_expand_phase_and_says_so(scratch_database: ScratchDatabase, tmp_path: Path) -> None:
    url = await scratch_database()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    status, error = await crm_migrate(url, tmp_path)
    assert status == 0, error
    assert "Applied 0001 (expand), 0002 (expand)" in error
    assert f"The database is at revision {head}." in error
    status, error = await crm_migrate(url, tmp_path, "--contract")
    assert status == 0, error
    assert f"Nothing to apply. The database is at revision {head}." in error


async def test_the_summary_comes_after_the_log_lines_it_sums_up(
    scratch_database: ScratchDatabase, tmp_path: Path
) -> None:
    url = await scratch_database()
    status, output = await crm_migrate(url, tmp_path, together=True)
    assert status == 0, output
    lines = output.splitlines()
    logged = _log_lines(output)
    assert any("Running upgrade 0007 -> 0008" in lines[index] for index in logged), output
    assert lines[-1].startswith("Applied 0001 (expand)"), output
    assert max(logged) < len(lines) - 1, output


async def test_a_schema_ahead_of_the_release_is_left_alone_with_exit_0(
    scratch_database: ScratchDatabase, tmp_path: Path
) -> None:
    url = await scratch_database()
    await upgrade(url, "head")
    known = ScriptDirectory.from_config(alembic_config()).get_current_head()

    def a_newer_release_migrated(connection: Connection) -> None:
        connection.execute(text("UPDATE alembic_version SET version_num = '9001'"))

    await on(url, a_newer_release_migrated)
    before = schema_dump(url)
    for arguments in ((), ("--contract",)):
        status, error = await crm_migrate(url, tmp_path, *arguments)
        assert status == 0, error
        assert (
            f"The schema is ahead of this release: the database is at revision 9001, this release knows revisions"
            f" up to {known}. Nothing was changed" in error
        )
        assert "Traceback" not in error
    assert await on(url, _version) == "9001"
    assert schema_dump(url) == before


async def _migrate_past_0005_while_users_are_written(
    url: str, data_dir: Path, *, together: bool = False, **limits: str
) -> tuple[int, str]:
    """``crm migrate`` from 0005 while a write transaction holds ``users``, which 0006's foreign keys point at."""
    await upgrade(url, "0005")
    async with long_reader(url) as writer:
        await writer.execute(text("LOCK TABLE users IN ROW EXCLUSIVE MODE"))
        return await crm_migrate(url, data_dir, together=together, **limits)


async def test_a_migration_that_never_gets_its_lock_fails_in_one_line(
    scratch_database: ScratchDatabase, tmp_path: Path
) -> None:
    """0006 adds foreign keys that point at ``users``: a long write transaction on it holds the migration off."""
    url = await scratch_database()
    status, error = await _migrate_past_0005_while_users_are_written(
        url,
        tmp_path,
        CRM_MIGRATION_LOCK_TIMEOUT_SECONDS="0.1",
        CRM_MIGRATION_LOCK_RETRIES="1",
        CRM_MIGRATION_RETRY_PAUSE_SECONDS="0.1",
    )
    assert status == 1
    assert "Traceback" not in error
    last = error.strip().splitlines()[-1]
    assert last.startswith("Error: A migration did not get its table lock within 0.1 s in 2 attempts"), error
    assert await on(url, _version) == "0005"


async def test_the_error_comes_after_the_log_lines_of_the_step_that_failed(
    scratch_database: ScratchDatabase, tmp_path: Path
) -> None:
    """A lock timeout of a millisecond: the error follows the revision's log line at once, yet is written after it."""
    url = await scratch_database()
    status, output = await _migrate_past_0005_while_users_are_written(
        url, tmp_path, together=True, CRM_MIGRATION_LOCK_TIMEOUT_SECONDS="0.001", CRM_MIGRATION_LOCK_RETRIES="0"
    )
    assert status == 1, output
    lines = output.splitlines()
    logged = _log_lines(output)
    assert "Running upgrade 0005 -> 0006" in lines[max(logged)], output
    assert lines[-1].startswith("Error: A migration did not get its table lock within 0.001 s in 1 attempts"), output
