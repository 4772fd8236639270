"""Webhooks and their deliveries in memory, with the SQL adapter's rules.

The events they deliver are recorded by ``adapters.memory.outbox``, as migration 0004's triggers do in PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from adapters.memory.store import StoredDelivery, Tables
from adapters.memory.transaction import Transaction
from application.ports.webhooks import (
    WebhookRepository,
)
from domain.webhooks import Delivery, Webhook, WebhookEvent


def _delivery(tables: Tables, stored: StoredDelivery) -> Delivery:
    event = tables.webhook_events[stored.event_seq]
    return Delivery(
        id=stored.id,
        webhook_id=stored.webhook_id,
        event_id=event.id,
        type=event.type,
        status=stored.status,  # type: ignore[arg-type]  # only ever one of DeliveryStatus
        attempts=stored.attempts,
        next_attempt_at=stored.next_attempt_at if stored.status == "pending" else None,
        last_attempt_at=stored.last_attempt_at,
        last_status_code=stored.last_status_code,
        seq=stored.event_seq,
    )


class InMemoryWebhookRepository(WebhookRepository):
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    def _resolved(self, tables: Tables, webhook: Webhook) -> Webhook:
        return replace(webhook, created_by=tables.actor_ref(webhook.created_by))

    async def add(self, webhook: Webhook) -> None:
        tables = await self._transaction.writable()
        tables.webhooks[webhook.id] = replace(webhook)

    async def get(self, webhook_id: UUID, *, for_update: bool = False) -> Webhook | None:
        tables = await self._transaction.writable() if for_update else self._transaction.readable()
        webhook = tables.webhooks.get(webhook_id)
        return None if webhook is None else self._resolved(tables, webhook)

    async def update(self, webhook: Webhook) -> None:
        tables = await self._transaction.writable()
        if webhook.id in tables.webhooks:
            tables.webhooks[webhook.id] = replace(webhook)

    async def delete(self, webhook_id: UUID) -> None:
        tables = await self._transaction.writable()
        tables.webhooks.pop(webhook_id, None)
        gone = {key for key, delivery in tables.webhook_deliveries.items() if delivery.webhook_id == webhook_id}
        for key in gone:
            del tables.webhook_deliveries[key]
        tables.webhook_attempts = [attempt for attempt in tables.webhook_attempts if attempt[0] not in gone]

    async def list_webhooks(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[Webhook]:
        tables = self._transaction.readable()
        found = sorted(
            (w for w in tables.webhooks.values() if after is None or (w.created_at, w.id) > after),
            key=lambda w: (w.created_at, w.id),
        )
        return [self._resolved(tables, webhook) for webhook in found[:limit]]

    async def list_deliveries(self, webhook_id: UUID, limit: int, before: int | None = None) -> list[Delivery]:
        tables = self._transaction.readable()
        found = sorted(
            (
                d
                for d in tables.webhook_deliveries.values()
                if d.webhook_id == webhook_id and (before is None or d.event_seq < before)
            ),
            key=lambda d: d.event_seq,
            reverse=True,
        )
        return [_delivery(tables, stored) for stored in found[:limit]]

    async def retry_delivery(self, webhook_id: UUID, delivery_id: UUID, at: datetime) -> bool:
        tables = await self._transaction.writable()
        stored = tables.webhook_deliveries.get(delivery_id)
        if stored is None or stored.webhook_id != webhook_id:
            return False
        tables.webhook_deliveries[delivery_id] = replace(stored, status="pending", next_attempt_at=at)
        return True

    async def add_test_event(self, webhook_id: UUID, event: WebhookEvent) -> None:
        tables = await self._transaction.writable()
        seq = len(tables.webhook_events) + 1
        tables.webhook_events[seq] = event
        delivery = StoredDelivery(uuid4(), webhook_id, seq, "pending", 0, event.occurred_at, event.occurred_at)
        tables.webhook_deliveries[delivery.id] = delivery
