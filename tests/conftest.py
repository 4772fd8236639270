"""Database fixtures shared by every test suite: one throw-away, migrated PostgreSQL database per run.

Other fixtures belong in the conftest.py of the suite that uses them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.engine import create_engine
from adapters.sql.migrate import upgrade_to_head
from adapters.sql.tables import ALL_TABLES
from tests.support.database import create_database, drop_database, postgres_server, url_of_database


@pytest.fixture(scope="session")
async def postgres_server_url() -> AsyncIterator[str]:
    """A URL of a server on which tests may create and drop databases (see tests/support/database.py)."""
    async with postgres_server(os.environ.get("TEST_DATABASE_URL")) as url:
        yield url


@pytest.fixture(scope="session")
async def database_url(postgres_server_url: str) -> AsyncIterator[str]:
    """``postgresql+asyncpg://`` URL of this run's own database, migrated to the newest revision."""
    name = await create_database(postgres_server_url)
    try:
        url = url_of_database(postgres_server_url, name)
        await upgrade_to_head(url)
        yield url
    finally:
        await drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5, max_overflow=5)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def clean_database(engine: AsyncEngine) -> AsyncEngine:
    """The engine, on a database whose tables were just emptied."""
    names = ", ".join(table.name for table in ALL_TABLES)
    async with engine.begin() as connection:
        # A connection left in a transaction would make TRUNCATE wait for ever: fail the test instead.
        await connection.execute(text("SET LOCAL lock_timeout = '30s'"))
        await connection.execute(text(f"TRUNCATE {names} CASCADE"))
    return engine
