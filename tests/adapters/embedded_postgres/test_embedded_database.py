"""The embedded PostgreSQL: starts on loopback, keeps its data between runs, takes our migrations, as root runs
as an unprivileged user without touching any folder but its own, and copies its binaries whole and checked.

Each test has its own empty folder for the server's copies and data (tests/support/embedded.py)."""

from __future__ import annotations

import asyncio
import os
import pwd
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.embedded_postgres import SYSTEM_USER, EmbeddedPostgres, EmbeddedPostgresError
from adapters.embedded_postgres.accounts import server_account
from adapters.embedded_postgres.binaries import bundled, checked_copy, differences
from adapters.embedded_postgres.places import server_home
from adapters.sql.migrate import upgrade_to_head
from tests.support.embedded import embedded_workspace

REPOSITORY = Path(__file__).resolve().parents[3]


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A new empty folder the server's user can reach (pytest's own temporary folders are closed to others)."""
    with embedded_workspace("crm-embedded-test-") as folder:
        yield folder


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
    server = EmbeddedPostgres(data, fast=True, server_home=workspace / "server")
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

    with EmbeddedPostgres(data, server_home=workspace / "server") as again:
        assert await _query(again.url, "SELECT email_key FROM users") == [("a@b.c",)]
        assert await _query(again.url, "SHOW listen_addresses") == [("127.0.0.1",)]
        assert await _query(again.url, "SHOW fsync") == [("on",)]
        # A second process on the same folder shares the running server and leaves it running.
        with EmbeddedPostgres(data, server_home=workspace / "server") as sharing:
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
    server = EmbeddedPostgres(closed / "pgdata", fast=True, server_home=workspace / "server")
    with server:
        assert await _query(server.url, "SELECT 1") == [(1,)]
    if os.geteuid() == 0:
        # The server's user cannot enter the folder, and we do not open it: its data lives in its own place,
        # the same one on the next run.
        assert server.data_dir.parent == workspace / "server"
        assert _owner_and_mode(server.data_dir) == (SYSTEM_USER, 0o700)
        assert _owner_and_mode(closed) == ("root", 0o700)
        assert not (closed / "pgdata").exists()
        again = EmbeddedPostgres(closed / "pgdata", fast=True, server_home=workspace / "server")
        with again:
            assert again.data_dir == server.data_dir
    else:
        # As an ordinary user the server runs as that user, who owns the folder.
        assert server.data_dir == closed / "pgdata"


def _postgres_version(binaries: Path) -> str:
    """What the copied server answers to --version: it loads, its bundled libraries included."""
    result = subprocess.run(
        [str(binaries / "initdb"), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_copy_of_the_binaries_is_whole_checked_and_replaced_when_broken(workspace: Path) -> None:
    place = workspace / "server"
    source = bundled()
    copy, made = checked_copy(source, place)
    assert made
    assert copy.root.parent == place and source.version in copy.root.name
    # The libraries the binaries link to (libpq) came along, and the copy runs from where it is.
    assert any(path.startswith("embedded_postgres.libs/libpq") for path in copy.manifest)
    assert "(PostgreSQL)" in _postgres_version(copy.bin)
    assert differences(copy.root, copy.manifest) == []

    assert checked_copy(source, place) == (copy, False), "a whole copy is reused"

    libpq = next(copy.root / path for path in copy.manifest if path.startswith("embedded_postgres.libs/libpq"))
    libpq.write_bytes(libpq.read_bytes()[:1000])  # damaged
    assert differences(copy.root, copy.manifest) == [f"{libpq.relative_to(copy.root)}: differs"]
    assert checked_copy(source, place) == (copy, True)
    assert differences(copy.root, copy.manifest) == []

    (copy.bin / "postgres").unlink()  # partial
    assert checked_copy(source, place) == (copy, True)
    assert "(PostgreSQL)" in _postgres_version(copy.bin)
    # Nothing half-made is left beside it.
    assert [entry.name for entry in place.iterdir()] == [copy.root.name]


def test_without_the_package_the_error_names_make_run(workspace: Path) -> None:
    """The production image has no embedded-postgres: starting one there says what to do instead."""
    script = (
        "import sys; from pathlib import Path; from adapters.embedded_postgres import EmbeddedPostgres\n"
        "try:\n    EmbeddedPostgres(Path(sys.argv[1])).start()\n"
        "except Exception as error:\n    print(type(error).__name__, error)\n"
    )
    # -S: no site-packages, so the wheel is not installed as far as this interpreter knows.
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(workspace / "data")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=REPOSITORY,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPOSITORY)},
    )
    assert result.stdout.startswith("EmbeddedPostgresError"), result.stdout + result.stderr
    assert "make run" in result.stdout and "DATABASE_URL" in result.stdout


def test_the_server_account_gets_only_a_place_that_only_root_can_change(workspace: Path) -> None:
    """In a shared folder such as /tmp, anyone could have made the place first: such a place is not trusted."""
    account = server_account()
    shared = workspace / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(EmbeddedPostgresError, match="only root can change"):
        server_home(shared, account)
    if os.geteuid() == 0:
        assert server_home(workspace / "server", account) == workspace / "server"
        created = server_home(workspace / "new", account)
        assert _owner_and_mode(created) == ("root", 0o755)
