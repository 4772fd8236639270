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
# The longest wait under way, and what it waits for (lock type, and the table where there is one).
LONGEST_LOCK_WAIT = """SELECT extract(epoch FROM clock_timestamp() - l.waitstart)::float8 AS seconds,
    l.locktype || coalesce(' ' || l.relation::regclass::text, '') AS lock
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE NOT l.granted AND l.waitstart IS NOT NULL AND a.datname = current_database()
ORDER BY l.waitstart LIMIT 1"""
LOOK_SECONDS = 0.05


@dataclass
class WriteProbe:
    database_url: str
    rows: int
    phase: str = "start"
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    lock_waits: dict[str, tuple[float, str]] = field(default_factory=dict)

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
                phase, row = self.phase, await connection.fetchrow(LONGEST_LOCK_WAIT)
                if row is not None and row["seconds"] > self.lock_waits.get(phase, (0.0, ""))[0]:
                    self.lock_waits[phase] = (row["seconds"], row["lock"])
                await asyncio.sleep(LOOK_SECONDS)
        finally:
            await connection.close()

    def longest_lock_wait(self, phase: str) -> str:
        seconds, lock = self.lock_waits.get(phase, (0.0, ""))
        return f"{seconds * 1000:.0f} ms" + (f" ({lock})" if lock else "")

    def longest_ms(self, phase: str) -> float:
        return max(self.waits.get(phase, []), default=0.0) * 1000
