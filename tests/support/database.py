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
from collections.abc import AsyncIterator, Callable

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from adapters.embedded_postgres import EmbeddedPostgres
from tests.support.embedded import embedded_workspace

LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_log = logging.getLogger(__name__)


def url_of_database(server_url: str, database: str, *, driver: str = "postgresql+asyncpg") -> str:
    return make_url(server_url).set(drivername=driver, database=database).render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def _admin_connection(server_url: str, connect_timeout: float = 30) -> AsyncIterator[AsyncConnection]:
    """One autocommit connection (CREATE and DROP DATABASE refuse to run inside a transaction)."""
    engine = create_async_engine(
        url_of_database(server_url, make_url(server_url).database or "postgres"),
        poolclass=pool.NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"timeout": connect_timeout},
    )
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def answers(url: str) -> bool:
    """Whether a server accepts us there within two seconds."""
    try:
        async with _admin_connection(url, connect_timeout=2) as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # refused, timed out, unknown role or database: all mean "not this one"
        return False
    return True


def _start_container() -> tuple[str, Callable[[], None]]:
    # Imported here: without a container engine nothing of it is needed.
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer("postgres:16-alpine", driver=None)
    container.start()
    return container.get_connection_url(), container.stop


def _start_embedded() -> tuple[str, Callable[[], None]]:
    """An embedded server in a new empty folder of its own (its data and, as root, its copy of the binaries)."""
    resources = contextlib.ExitStack()
    folder = resources.enter_context(embedded_workspace("crm-test-postgres-"))
    server = EmbeddedPostgres(folder / "data", fast=True, server_home=folder / "server")
    resources.callback(server.stop)  # runs before the folder goes
    try:
        url = server.start()
    except BaseException:
        resources.close()
        raise
    return url, resources.close


@contextlib.asynccontextmanager
async def postgres_server(test_database_url: str | None) -> AsyncIterator[str]:
    """Yield a URL of a database on a server where we may create databases."""
    if test_database_url:
        yield test_database_url
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
    async with _admin_connection(server_url) as connection:
        await connection.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    return name


_END_CONNECTIONS = text(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
)


async def drop_database(server_url: str, name: str) -> None:
    """Drop the database, first ending whatever connections are still open to it."""
    async with _admin_connection(server_url) as connection:
        await connection.execute(_END_CONNECTIONS, {"name": name})
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
