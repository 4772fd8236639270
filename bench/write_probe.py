"""The database's side of a write's wait: one connection changes a customer every 10 ms, straight in SQL.

HTTP latencies add the servers' queueing to what the locks cost (and on a small machine the queueing can be most of
it); this probe measures only how long PostgreSQL keeps a plain write waiting, which is what a migration's locks do
to every writer. Each change is what the service's update writes, in one statement: the customer row and its
history row, so a lock on either table (``customer_changes`` carries 0008's triggers) holds it up, and the history
row's triggers run as they do for the service. Each change counts in the phase in which it started.

The probe's own clock runs in the bench's event loop, beside the load and the balancer: on a starved machine its
figure includes the loop's lag. So a second connection asks PostgreSQL every 50 ms how long the longest lock wait
of any session on the database has lasted so far (``pg_locks.waitstart``): a lower bound of the locks' cost (a wait
shorter than the interval can slip between two looks) that no queueing in the bench inflates.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg

INTERVAL_SECONDS = 0.01
CHANGE = """WITH c AS (
    UPDATE customers SET notes = $2, updated_at = now(), version = version + 1 WHERE id = $1
    RETURNING id, updated_by)
INSERT INTO customer_changes (customer_id, kind, actor_id, at, changes)
SELECT c.id, 'updated', c.updated_by, now(), jsonb_build_array(jsonb_build_object('field', 'notes', 'new', $2))
FROM c"""
LONGEST_LOCK_WAIT = """SELECT coalesce(extract(epoch FROM max(clock_timestamp() - l.waitstart)), 0)::float8
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND a.datname = current_database()"""
LOOK_SECONDS = 0.05


@dataclass
class WriteProbe:
    database_url: str
    rows: int
    phase: str = "start"
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lock_waits: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    async def run_forever(self) -> None:
        connection = await asyncpg.connect(self.database_url)
        try:
            while True:
                phase, started = self.phase, time.monotonic()
                await connection.execute(
                    CHANGE,
                    f"C{random.randint(1, self.rows):07d}",
                    f"probe {started:.3f}",
                )
                self.waits[phase].append(time.monotonic() - started)
                await asyncio.sleep(INTERVAL_SECONDS)
        finally:
            await connection.close()

    async def watch_locks_forever(self) -> None:
        connection = await asyncpg.connect(self.database_url)
        try:
            while True:
                phase, seconds = self.phase, await connection.fetchval(LONGEST_LOCK_WAIT)
                self.lock_waits[phase] = max(self.lock_waits[phase], seconds)
                await asyncio.sleep(LOOK_SECONDS)
        finally:
            await connection.close()

    def longest_lock_wait_ms(self, phase: str) -> float:
        return self.lock_waits.get(phase, 0.0) * 1000

    def longest_ms(self, phase: str) -> float:
        return max(self.waits.get(phase, []), default=0.0) * 1000
