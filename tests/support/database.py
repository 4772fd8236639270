"""A PostgreSQL server for the tests, and throw-away databases on it.

The server is the first of these that answers:
1. ``TEST_DATABASE_URL`` (any database on the server; tests never write to it, they create their own);
2. the machine's own server on 127.0.0.1:5432 (user postgres, trust authentication);
3. a testcontainers PostgreSQL, where a container engine answers;
4. an embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from crm.embedded_database import EmbeddedPostgres

LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_log = logging.getLogger(__name__)


def plain_url(url: str) -> str:
    """The URL as libpq and asyncpg take it (no SQLAlchemy driver suffix)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def url_of_database(server_url: str, database: str, *, driver: str = "postgresql+asyncpg") -> str:
    return make_url(server_url).set(drivername=driver, database=database).render_as_string(hide_password=False)


async def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        connection = await asyncpg.connect(plain_url(url), timeout=timeout)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


def _start_container() -> tuple[str, Callable[[], None]]:
    # Imported here: without a container engine nothing of it is needed.
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer("postgres:16-alpine", driver=None)
    container.start()
    return container.get_connection_url(), container.stop


def _start_embedded() -> tuple[str, Callable[[], None]]:
    folder = Path(tempfile.mkdtemp(prefix="crm-test-postgres-"))
    server = EmbeddedPostgres(folder, fast=True)

    def stop() -> None:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    try:
        url = server.start()
    except BaseException:
        stop()
        raise
    return url, stop


@contextlib.asynccontextmanager
async def postgres_server(test_database_url: str | None) -> AsyncIterator[str]:
    """Yield a URL of a database on a server where we may create databases."""
    if test_database_url:
        yield plain_url(test_database_url)
        return
    if await answers(LOCAL_SERVER_URL):
        yield LOCAL_SERVER_URL
        return
    try:
        url, stop = await asyncio.to_thread(_start_container)
    except Exception as error:  # no engine, no image, no permission: any of them means "not here"
        _log.info("No PostgreSQL container (%s); starting an embedded PostgreSQL", error)
        url, stop = await asyncio.to_thread(_start_embedded)
    try:
        yield url
    finally:
        await asyncio.to_thread(stop)


async def create_database(server_url: str, prefix: str = "crm_test") -> str:
    """Create an empty database with a random name on the server; return its name."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(plain_url(server_url))
    try:
        await connection.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    finally:
        await connection.close()
    return name


async def drop_database(server_url: str, name: str) -> None:
    """Drop the database, first ending whatever connections are still open to it."""
    connection = await asyncpg.connect(plain_url(server_url))
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await connection.close()
