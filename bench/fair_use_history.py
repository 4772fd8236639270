"""What the fair-use history costs the exchange (decision record 0033, "Later"), run on its own:
``.venv/bin/python -m bench.fair_use_history --keys 200``.

On a throw-away database: the per-second exchange (a report of 250 totals, the others' last two slots read) with three
slots kept for every caller, then with a day of API keys' rows beside them; the start-up read of the history and its
charging into a limiter; the once-a-slot clean-up. Prints the figures; nothing is written to docs/. The exchange's
figures move by several ms from run to run on a loaded machine: compare the plan (the read is an index scan of the
last two slots either way) rather than one pair of medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.sql.access.admission_exchange import SqlAdmissionExchange
from application.access.admission_sync import HISTORY_BUCKET_SLOTS
from application.access.limiter import API_KEY_CALLER, Limiter
from application.ports.admissions import SLOT_SECONDS, Retention
from bench import database
from domain.rate_limits import Policy

DAY_SLOTS = 1_441
# Every replica's row of every caller in the slots asked for (a cross join of replicas, callers and slots).
_FILL = text(
    "INSERT INTO rate_limit_admissions (replica, caller, slot, admitted)"
    " SELECT 'replica-' || r, :prefix || c, s, 7 FROM generate_series(1, CAST(:replicas AS int)) r,"
    " generate_series(1, CAST(:callers AS int)) c, generate_series(CAST(:first AS bigint), :last) s"
    " ON CONFLICT DO NOTHING"
)


async def _milliseconds(call: Callable[[], Awaitable[object]], times: int) -> tuple[float, float]:
    """Median and worst milliseconds of ``times`` calls."""
    spent = []
    for _ in range(times):
        begun = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - begun) * 1000)
    return statistics.median(spent), max(spent)


async def _fill(engine: AsyncEngine, prefix: str, callers: int, replicas: int, first: int, last: int) -> None:
    async with engine.begin() as connection:
        parameters = {"prefix": prefix, "callers": callers, "replicas": replicas, "first": first, "last": last}
        await connection.execute(_FILL, parameters)
        await connection.execute(text("ANALYZE rate_limit_admissions"))


async def measure(url: str, keys: int, users: int, replicas: int) -> None:
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=2)
    exchange = SqlAdmissionExchange(engine)
    slot = int(time.time() // SLOT_SECONDS)
    report = {(f"{API_KEY_CALLER}{number}", slot): 10 for number in range(50)}
    report |= {(f"user:{number}", slot): 5 for number in range(200)}

    async def exchange_once() -> None:
        await exchange.exchange("bench", report, since_slot=slot - 1)

    try:
        await _fill(engine, "user:", users, replicas, slot - 2, slot)
        await _fill(engine, API_KEY_CALLER, keys, replicas, slot - 2, slot)
        await _milliseconds(exchange_once, 20)  # connections and prepared statements
        print("exchange, three slots kept: median %.1f ms, worst %.1f ms" % await _milliseconds(exchange_once, 200))
        await _fill(engine, API_KEY_CALLER, keys, replicas, slot - DAY_SLOTS, slot)
        async with engine.connect() as connection:
            rows = await connection.scalar(text("SELECT count(*) FROM rate_limit_admissions"))
            size = await connection.scalar(
                text("SELECT pg_size_pretty(pg_total_relation_size('rate_limit_admissions'))")
            )
        print(f"{rows} rows, {size}: {keys} API keys every minute of a day on {replicas} replicas, {users} users")
        print("exchange, a day kept:       median %.1f ms, worst %.1f ms" % await _milliseconds(exchange_once, 200))
        begun = time.perf_counter()
        history = await exchange.history("bench", slot - DAY_SLOTS, exact_from=slot - 2, bucket=HISTORY_BUCKET_SLOTS)
        read = (time.perf_counter() - begun) * 1000
        limiter = Limiter(Policy("burst", 100, 10), Policy("daily", 250_000, 86_400))
        begun = time.perf_counter()
        limiter.recall(history, slot, 30.0)
        charged = (time.perf_counter() - begun) * 1000
        print(f"start-up: {len(history)} totals read in {read:.0f} ms, charged in {charged:.0f} ms")
        await _fill(engine, "user:", users, 1, slot - 3, slot - 3)  # a slot of users ages out
        retention = Retention(kept_from=slot - 2, longer_for=API_KEY_CALLER, longer_from=slot - DAY_SLOTS + 1)
        print("clean-up: median %.1f ms, worst %.1f ms" % await _milliseconds(lambda: exchange.forget(retention), 5))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=200, help="API keys busy every minute of the day")
    parser.add_argument("--users", type=int, default=500, help="users busy every minute")
    parser.add_argument("--replicas", type=int, default=4)
    arguments = parser.parse_args()
    with database.server() as server:
        created = asyncio.run(database.create(server))
        try:
            asyncio.run(measure(created.url, arguments.keys, arguments.users, arguments.replicas))
        finally:
            asyncio.run(database.drop(created))


if __name__ == "__main__":
    main()
