"""The database's side of a write's wait: one connection changes a customer every 10 ms, straight in SQL.

HTTP latencies add the servers' queueing to what the locks cost (and on a small machine the queueing can be most of
it); this probe measures only how long PostgreSQL keeps a plain ``UPDATE customers`` waiting, which is what a
migration's locks do to every writer. Each update counts in the phase in which it started.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg

INTERVAL_SECONDS = 0.01


@dataclass
class WriteProbe:
    database_url: str
    rows: int
    phase: str = "start"
    waits: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    async def run_forever(self) -> None:
        connection = await asyncpg.connect(self.database_url)
        try:
            while True:
                phase, started = self.phase, time.monotonic()
                await connection.execute(
                    "UPDATE customers SET notes = $2 WHERE id = $1",
                    f"C{random.randint(1, self.rows):07d}",
                    f"probe {started:.3f}",
                )
                self.waits[phase].append(time.monotonic() - started)
                await asyncio.sleep(INTERVAL_SECONDS)
        finally:
            await connection.close()

    def longest_ms(self, phase: str) -> float:
        return max(self.waits.get(phase, []), default=0.0) * 1000
