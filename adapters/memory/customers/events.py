"""The live changes' event feed in memory, with the PostgreSQL feed's order and rules."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import datetime

from adapters.memory.store import InMemoryStore
from application.ports.customer_events import CustomerEventFeed
from domain.customer_events import BEGINNING, CustomerEvent, EventPosition


class InMemoryCustomerEventFeed(CustomerEventFeed):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def latest(self) -> EventPosition:
        events = self._store.committed.customer_events
        return events[next(reversed(events))].position if events else BEGINNING

    async def after(self, position: EventPosition, limit: int) -> list[CustomerEvent]:
        events = self._store.committed.customer_events
        found = [event for event in events.values() if event.position > position]
        return found[:limit]

    async def knows(self, position: EventPosition) -> bool:
        if position == BEGINNING:
            return self._store.customer_events_pruned_through == 0
        # Every id up to the last recorded one was given out (a discarded unit of work takes none).
        last = next(reversed(self._store.committed.customer_changes), 0)
        return (
            position.commit == position.change and self._store.customer_events_pruned_through < position.commit <= last
        )

    async def prune(self, before: datetime) -> int:
        async with self._store.write_lock:
            tables = self._store.committed
            # The last event stays, as the last commit does in PostgreSQL.
            last = next(reversed(tables.customer_events), None)
            old = [key for key, event in tables.customer_events.items() if event.occurred_at < before and key != last]
            if not old:
                return 0
            kept = {key: event for key, event in tables.customer_events.items() if key > old[-1]}
            self._store.committed = replace(tables, customer_events=kept)
            self._store.customer_events_pruned_through = max(self._store.customer_events_pruned_through, old[-1])
            return len(tables.customer_events) - len(kept)

    async def wait(self, seconds: float) -> None:
        woken = self._store.customer_events_committed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await woken.wait()
        woken.clear()

    async def aclose(self) -> None:
        """Nothing held."""
