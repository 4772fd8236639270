"""The pool under rising concurrency: GET by id on the service at 8, 16, 32 and 64 connections, counting the
database sessions opened after the warm-up, from PostgreSQL (``pg_stat_database.sessions``) and from the
service's own counter (``crm_db_connections_opened_total``). A pool that keeps its connections opens none.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
import httpx

from bench.load import LoadResult, Workload

_OPENED = re.compile(r"^crm_db_connections_opened_total (\S+)$", re.MULTILINE)
STATS_FLUSH_SECONDS = 1.5  # backends report their statistics at most once a second


@dataclass(frozen=True, slots=True)
class SweepRecord:
    connections: int
    load: LoadResult
    sessions_opened: int
    connections_opened: int

    @property
    def rps(self) -> float:
        return self.load.rps


def connections_opened(base_url: str) -> int:
    """The service's counter of connections its pool opened."""
    found = _OPENED.search(httpx.get(base_url + "/metrics", timeout=10).text)
    return int(float(found.group(1))) if found else 0


class SessionCounter:
    """Sessions opened in one database, read over one connection kept open for the purpose."""

    def __init__(self, url: str, database: str) -> None:
        self._url = url
        self._database = database
        self._loop = asyncio.new_event_loop()
        self._connection: asyncpg.Connection = self._loop.run_until_complete(asyncpg.connect(url))

    def sessions(self) -> int:
        async def read() -> int:
            await self._connection.execute("SELECT pg_stat_clear_snapshot()")
            value = await self._connection.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = $1", self._database
            )
            return int(value or 0)

        time.sleep(STATS_FLUSH_SECONDS)
        return self._loop.run_until_complete(read())

    def close(self) -> None:
        self._loop.run_until_complete(self._connection.close())
        self._loop.close()


def sweep(
    base_url: str,
    counter: SessionCounter,
    workload: Callable[[int], Workload],
    generate: Callable[[Workload, float], LoadResult],
    connections: Sequence[int],
    *,
    seconds: float,
    warmup: float,
) -> list[SweepRecord]:
    records = []
    for count in connections:
        generate(workload(count), max(warmup, 1.0))
        sessions, opened = counter.sessions(), connections_opened(base_url)
        load = generate(workload(count), seconds)
        record = SweepRecord(count, load, counter.sessions() - sessions, connections_opened(base_url) - opened)
        print(f"   {count:3} connections: {load.rps:8,.0f} req/s  p99 {load.p99_ms:6.1f} ms  "
              f"sessions opened {record.sessions_opened}  pool opened {record.connections_opened}",
              file=sys.stderr)  # fmt: skip
        records.append(record)
    return records


def sweep_table(records: Sequence[SweepRecord]) -> str:
    if not records:
        return "Not measured in this run."
    lines = [
        "| connections | req/s | p50 ms | p99 ms | sessions opened (pg_stat_database) | opened by the pool (counter) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines.extend(
        f"| {r.connections} | {r.rps:,.0f} | {r.load.p50_ms:.1f} | {r.load.p99_ms:.1f} | {r.sessions_opened} "
        f"| {r.connections_opened} |"
        for r in records
    )
    return "\n".join(lines)
