"""CRM_DB_STATEMENT_TIMEOUT_SECONDS on the pool's connections: a statement past it is cancelled by PostgreSQL and
becomes a 503 with Retry-After, the one pooled connection is fine afterwards, and a bulk write's transaction gets
its longer bound."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.availability import STATEMENT_TIMED_OUT, as_unavailable, is_database_unavailable, timed_out
from adapters.sql.customers.staging import BULK_TIMEOUT_FACTOR, copy_to_staging
from adapters.sql.customers.tables import customers
from adapters.sql.engine import create_engine


@pytest.fixture
async def strict_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=1, statement_timeout=0.2)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_a_statement_past_the_timeout_is_cancelled_and_the_connection_serves_on(
    strict_engine: AsyncEngine,
) -> None:
    with pytest.raises(DBAPIError) as raised:
        async with strict_engine.begin() as connection:
            await connection.execute(text("SELECT pg_sleep(2)"))
    assert timed_out(raised.value)
    assert is_database_unavailable(raised.value)
    unavailable = as_unavailable(raised.value)
    assert unavailable.detail == STATEMENT_TIMED_OUT
    assert unavailable.retry_after is not None and unavailable.retry_after >= 1
    async with strict_engine.connect() as connection:
        assert await connection.scalar(text("SELECT 1")) == 1
        assert await connection.scalar(text("SHOW statement_timeout")) == "200ms"
    assert strict_engine.sync_engine.pool.checkedin() == 1  # type: ignore[attr-defined]


async def test_a_bulk_write_gets_a_longer_bound_for_its_transaction_only(strict_engine: AsyncEngine) -> None:
    async with strict_engine.begin() as connection:
        await copy_to_staging(connection, customers, [])
        assert await connection.scalar(text("SHOW statement_timeout")) == f"{200 * BULK_TIMEOUT_FACTOR}ms"
    async with strict_engine.connect() as connection:
        assert await connection.scalar(text("SHOW statement_timeout")) == "200ms"


async def test_no_timeout_means_none(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SHOW statement_timeout")) == "0"
    finally:
        await engine.dispose()
