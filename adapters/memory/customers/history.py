"""Customer change history in memory, ordered and paged as the SQL adapter does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.memory.outbox import customer_event_data, record_customer_event
from adapters.memory.transaction import Transaction
from application.ports.persistence import CustomerHistory
from domain.customer_events import CustomerEvent, EventPosition
from domain.customer_history import CustomerChange
from domain.values import CustomerId


class InMemoryCustomerHistory(CustomerHistory):
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def record(self, change: CustomerChange) -> None:
        tables = await self._transaction.writable()
        # Writers take turns (see unit_of_work): ids grow 1, 2, 3... (an erasure leaves gaps, as in PostgreSQL).
        # Ids are inserted in increasing order, so the last key is the highest.
        change_id = next(reversed(tables.customer_changes), 0) + 1
        tables.customer_changes[change_id] = replace(change, id=change_id)
        # What the triggers of migrations 0004 (webhooks) and 0008 (live changes) do after every history row.
        data = customer_event_data(tables, change)
        record_customer_event(tables, change, data)
        customer = tables.customers.get(change.customer_id)
        photo = customer.photo if customer is not None and change.kind not in ("deleted", "erased") else None
        position = EventPosition(change_id, change_id)
        tables.customer_events[change_id] = CustomerEvent(position, f"customer.{change.kind}", change.at, data, photo)

    async def record_many(self, changes: Sequence[CustomerChange]) -> None:
        for change in changes:
            await self.record(change)

    async def erase(self, customer_id: CustomerId) -> None:
        tables = await self._transaction.writable()
        for change_id in [key for key, change in tables.customer_changes.items() if change.customer_id == customer_id]:
            del tables.customer_changes[change_id]
            # The event goes with its history entry (ON DELETE CASCADE in PostgreSQL).
            tables.customer_events.pop(change_id, None)

    async def list(
        self, customer_id: CustomerId, limit: int, after: tuple[datetime, int] | None = None
    ) -> list[CustomerChange]:
        tables = self._transaction.readable()

        def position(change: CustomerChange) -> tuple[datetime, int]:
            assert change.id is not None
            return change.at, change.id

        found = [
            change
            for change in tables.customer_changes.values()
            if change.customer_id == customer_id and (after is None or position(change) < after)
        ]
        found.sort(key=position, reverse=True)

        def resolved(change: CustomerChange) -> CustomerChange:
            return replace(change, by=tables.actor_ref(change.by))

        return [resolved(change) for change in found[:limit]]
