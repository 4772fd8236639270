"""The embedded PostgreSQL: starts on loopback, keeps its data between runs, takes our migrations,
and as root runs as an unprivileged user without touching any folder but its own."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.migrate import upgrade_to_head
from crm.embedded_database import SYSTEM_USER, EmbeddedPostgres, EmbeddedPostgresError


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A folder the server's user can reach (pytest's own temporary folders are closed to others)."""
    folder = Path(tempfile.mkdtemp(prefix="crm-embedded-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _owner_and_mode(path: Path) -> tuple[str, int]:
    status = path.stat()
    return pwd.getpwuid(status.st_uid).pw_name, stat.S_IMODE(status.st_mode)


async def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"), poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            return [tuple(row) for row in await connection.execute(text(sql))]
    finally:
        await engine.dispose()


async def test_it_starts_keeps_its_data_and_takes_the_migrations(workspace: Path) -> None:
    data = workspace / "pgdata"
    server = EmbeddedPostgres(data, fast=True)
    url = await asyncio.to_thread(server.start)
    try:
        parsed = make_url(url)
        assert (parsed.drivername, parsed.host, parsed.database) == ("postgresql", "127.0.0.1", "crm")
        await upgrade_to_head(url)
        inserted = await _query(
            url,
            "INSERT INTO users VALUES (gen_random_uuid(), 'a@b.c', 'a@b.c', 'A', NULL, true, now(), now(), 1, NULL)"
            " RETURNING email_key",
        )
        assert inserted == [("a@b.c",)]
        assert await _query(url, "SHOW fsync") == [("off",)]
    finally:
        await asyncio.to_thread(server.stop)
    with pytest.raises(EmbeddedPostgresError):
        _ = server.url

    with EmbeddedPostgres(data) as again:
        assert await _query(again.url, "SELECT email_key FROM users") == [("a@b.c",)]
        assert await _query(again.url, "SHOW listen_addresses") == [("127.0.0.1",)]
        assert await _query(again.url, "SHOW fsync") == [("on",)]
        # A second process on the same folder shares the running server and leaves it running.
        with EmbeddedPostgres(data) as sharing:
            assert sharing.url == again.url
        assert await _query(again.url, "SELECT count(*) FROM users") == [(1,)]
    # The one that started it stopped it.
    assert not await asyncio.to_thread((data / "postmaster.pid").exists)

    if os.geteuid() == 0:
        assert _owner_and_mode(data) == (SYSTEM_USER, 0o700)
        assert _owner_and_mode(workspace) == ("root", 0o755)


async def test_a_data_folder_inside_a_closed_folder(workspace: Path) -> None:
    closed = workspace / "closed"
    closed.mkdir()
    closed.chmod(0o700)
    server = EmbeddedPostgres(closed / "pgdata", fast=True)
    if os.geteuid() == 0:
        # The server's user cannot enter the folder, and we do not open it: a clear error instead.
        with pytest.raises(EmbeddedPostgresError, match=str(closed)):
            await asyncio.to_thread(server.start)
        assert _owner_and_mode(closed) == ("root", 0o700)
    else:
        # As an ordinary user the server runs as that user, who owns the folder.
        with server:
            assert await _query(server.url, "SELECT 1") == [(1,)]
