"""What the benchmark sends, endpoint by endpoint, and the data it needs."""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import httpx

from bench import database, pool_check, seed
from bench.harness import Bench, Session, WorkloadOf
from bench.load import Workload
from bench.options import BASE_ROWS, SWEEP_CONNECTIONS, endpoints
from bench.report import SERVICE


async def with_connection(url: str, action: Callable[[asyncpg.Connection], Any]) -> Any:
    connection = await asyncpg.connect(url)
    try:
        return await action(connection)
    finally:
        await connection.close()


async def seed_base(url: str) -> seed.BenchUser:
    async def run(connection: asyncpg.Connection) -> seed.BenchUser:
        user = await seed.create_user(connection)
        await seed.add_customers(connection, user, 1, BASE_ROWS)
        await seed.check_keys(connection)
        return user

    result: seed.BenchUser = await with_connection(url, run)
    return result


def measure_all(
    bench: Bench, db: database.Database, session: Session, user: seed.BenchUser
) -> list[pool_check.SweepRecord]:
    """Every endpoint, the pool check, the deep table, the token endpoint; the pool check's records."""
    options = bench.options
    base, deep, token = endpoints(options.deep_rows)
    by_key = {endpoint.key: endpoint for endpoint in [*base, *deep, token]}
    ids = tuple(seed.customer_id(index) for index in range(1, BASE_ROWS + 1))
    reads = tuple(f"/api/v1/customers/{customer_id}" for customer_id in ids)
    first_page = ("/api/v1/customers?limit=20",)
    searches = tuple(f"/api/v1/customers?q={quote(term)}" for term in seed.SEARCH_TERMS)
    connections = options.connections

    def paths(items: tuple[str, ...]) -> WorkloadOf:
        return lambda app, run: Workload("paths", items, session.bearer(), connections=connections)

    bearer = session.bearer()
    for path in (reads[0], first_page[0], searches[0]):
        bench.check_parity(path, bearer)
    bench.measure(by_key["get"], paths(reads))
    if options.wants("get_api_key"):
        api_key = _api_key(bench, session)
        bench.measure(
            by_key["get_api_key"], lambda app, run: Workload("paths", reads, api_key, connections=connections)
        )
    bench.measure(by_key["list"], paths(first_page))
    bench.measure(by_key["search"], paths(searches))
    tag = secrets.token_hex(3)
    bench.measure(
        by_key["create"],
        lambda app, run: Workload("create", (), session.bearer(), f"w{tag}{app[0]}{run + 1}", connections=connections),
    )
    bench.measure(by_key["update"], lambda app, run: Workload("update", ids, session.bearer(), connections=connections))
    sweep = _pool_check(bench, db, session, reads) if options.wants("pool") else []

    if options.only is None or options.only & {endpoint.key for endpoint in deep}:
        print(f"== growing the table to {options.deep_rows:,} customers", file=sys.stderr)
        started = time.monotonic()
        asyncio.run(with_connection(db.url, lambda c: seed.add_customers(c, user, BASE_ROWS + 1, options.deep_rows)))
        cursors = asyncio.run(
            with_connection(
                db.url, lambda c: seed.deep_cursors(c, options.deep_rows * 9 // 10, options.deep_rows * 99 // 100, 200)
            )
        )
        bench.notes.append(f"Growing the table to {options.deep_rows:,} rows took {time.monotonic() - started:.0f} s.")
        deep_pages = tuple(f"/api/v1/customers?cursor={cursor}" for cursor in cursors)
        bench.check_parity(deep_pages[0], session.bearer())
        bench.measure(by_key["list_deep"], paths(first_page))
        bench.measure(by_key["page_deep"], paths(deep_pages))
        bench.measure(by_key["search_deep"], paths(searches))

    form = urlencode({"grant_type": "password", "username": user.email, "password": user.password})
    bench.measure(token, lambda app, run: Workload("token", form=form, connections=4, timeout_seconds=60))
    return sweep


def _api_key(bench: Bench, session: Session) -> str:
    """A read-only API key, made through the service as an admin would."""
    response = httpx.post(
        bench.servers[SERVICE].base_url + "/api/v1/api-keys",
        json={"name": "Benchmark", "scopes": ["customers:read"]},
        headers={"Authorization": f"Bearer {session.bearer()}"},
        timeout=30,
    )
    response.raise_for_status()
    key: str = response.json()["key"]
    return key


def _pool_check(
    bench: Bench, db: database.Database, session: Session, reads: tuple[str, ...]
) -> list[pool_check.SweepRecord]:
    print("== pool: GET by id at " + ", ".join(map(str, SWEEP_CONNECTIONS)) + " connections", file=sys.stderr)
    counter = pool_check.SessionCounter(db.url, db.name)
    try:
        return pool_check.sweep(
            bench.servers[SERVICE].base_url,
            counter,
            lambda count: Workload("paths", reads, session.bearer(), connections=count),
            lambda workload, seconds: bench.generate(SERVICE, workload, seconds),
            SWEEP_CONNECTIONS,
            seconds=bench.options.seconds,
            warmup=bench.options.warmup,
        )
    finally:
        counter.close()
