"""What holds the database for long is bounded: a third export at once is refused while the first two complete,
and a statement that outlives CRM_DB_STATEMENT_TIMEOUT_SECONDS is a 503 after which the same server, on the same
one pooled connection, answers the next request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm.settings import Settings
from tests.service.api.conftest import Accounts
from tests.service.api.fair_use import client_from, limited_server
from tests.service.api.helpers import assert_problem, sign_in

CUSTOMERS = "/api/v1/customers"
EXPORT = "/api/v1/customers/export"


@asynccontextmanager
async def customers_locked(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The customers table locked against every reader until the block ends, as a long migration would."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE"))
        try:
            yield connection
        finally:
            await transaction.rollback()


async def waiting_on_the_lock(engine: AsyncEngine, count: int) -> None:
    """Until ``count`` statements wait for the lock (each a request that got in)."""
    deadline = time.monotonic() + 20
    while True:
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    # This test's database only: other runs share the server.
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query ILIKE '%customers%'"
                )
            )
        if waiting == count:
            return
        assert time.monotonic() < deadline, f"{waiting} requests wait for the lock, not {count}"
        await asyncio.sleep(0.05)


async def test_a_third_export_at_once_is_refused_and_the_first_two_complete(
    settings: Settings, clean_database: AsyncEngine, accounts: Accounts
) -> None:
    engine = clean_database
    with limited_server(settings, rate_limit_requests=1000, db_statement_timeout_seconds=60) as url:
        user = sign_in(client_from(url), (await accounts.user()).email)
        assert user.post(CUSTOMERS, json={"id": "C-1", "name": "Ada", "surname": "Lovelace"}).status_code == 201
        async with httpx.AsyncClient(base_url=url, headers=user.headers, timeout=60) as client:
            async with customers_locked(engine):
                first = asyncio.create_task(client.get(EXPORT))
                second = asyncio.create_task(client.get(EXPORT, params={"format": "ndjson"}))
                await waiting_on_the_lock(engine, 2)
                third = await client.get(EXPORT)
                problem = assert_problem(third, 429)
                assert problem["type"].endswith("quota-exceeded")
                assert problem["violated-policies"] == ["concurrency"]
                assert int(third.headers["retry-after"]) >= 1
                assert not first.done() and not second.done()
            done = await asyncio.gather(first, second)
        assert [answer.status_code for answer in done] == [200, 200]
        assert "Ada" in done[0].text and "Ada" in done[1].text
        # Once they ended, the caller may export again.
        assert user.get(EXPORT).status_code == 200


async def test_a_statement_past_its_timeout_is_a_503_and_the_connection_serves_the_next_request(
    settings: Settings, clean_database: AsyncEngine, accounts: Accounts
) -> None:
    engine = clean_database
    # One pooled connection: the request after the timeout can only be served if that connection came back whole.
    with limited_server(settings, db_statement_timeout_seconds=0.5, db_pool_size=1) as url:
        user = sign_in(client_from(url), (await accounts.user()).email)
        assert user.post(CUSTOMERS, json={"id": "C-1", "name": "Ada", "surname": "Lovelace"}).status_code == 201
        async with customers_locked(engine):
            # Were it not cut, the request would wait for the lock, which ends only after it answered.
            timed_out = await asyncio.to_thread(user.get, CUSTOMERS)
        problem = assert_problem(timed_out, 503)
        assert "too long" in problem["detail"]
        assert int(timed_out.headers["retry-after"]) >= 1
        listed = user.get(CUSTOMERS)
        assert listed.status_code == 200
        assert [customer["id"] for customer in listed.json()["items"]] == ["C-1"]
