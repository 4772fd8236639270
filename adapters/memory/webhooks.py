"""Webhooks, the outbox and the delivery queue in memory, with the SQL adapter's rules (and migration 0004's triggers).

``record_event`` stands in for the triggers: the customer history and the user repository call it in the same
(in-memory) transaction as the change, so a discarded change leaves no event here either.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from adapters.memory.store import StoredDelivery, Tables
from adapters.memory.transaction import Transaction
from application.ports.webhooks import (
    WebhookRepository,
)
from domain.customer_history import CustomerChange
from domain.users import User, UserRef
from domain.webhooks import Delivery, Webhook, WebhookEvent


def _time(value: datetime) -> str:
    """As the triggers write times: RFC 3339 in UTC with microseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_event(tables: Tables, event_type: str, subject: str, at: datetime, data: dict[str, Any]) -> None:
    subscribers = [webhook for webhook in tables.webhooks.values() if webhook.wants(event_type)]
    if not subscribers:
        return
    seq = len(tables.webhook_events) + 1
    tables.webhook_events[seq] = WebhookEvent(uuid4(), event_type, subject, at, data)
    for webhook in subscribers:
        delivery = StoredDelivery(uuid4(), webhook.id, seq, "pending", 0, at, at)
        tables.webhook_deliveries[delivery.id] = delivery


def record_customer_event(tables: Tables, change: CustomerChange) -> None:
    subject = f"customer:{change.customer_id}"
    data: dict[str, Any] = {"id": str(change.customer_id)}
    if change.kind == "erased":
        # Erasure (GDPR Art. 17): the customer's earlier events, pending or delivered, keep only its id.
        for seq, event in tables.webhook_events.items():
            if event.subject == subject:
                tables.webhook_events[seq] = replace(event, data=dict(data))
    customer = tables.customers.get(change.customer_id)
    if customer is not None and change.kind not in ("deleted", "erased"):

        def ref(stored: UserRef) -> dict[str, Any]:
            current = tables.actor_ref(stored)
            return {"id": str(current.id), "name": str(current.name)}

        data = {
            "id": str(customer.id),
            "name": str(customer.name),
            "surname": str(customer.surname),
            "email": None if customer.email is None else str(customer.email),
            "phone": None if customer.phone is None else str(customer.phone),
            "notes": None if customer.notes is None else str(customer.notes),
            "has_photo": customer.photo is not None,
            "created_at": _time(customer.created_at),
            "created_by": ref(customer.created_by),
            "updated_at": _time(customer.updated_at),
            "updated_by": ref(customer.updated_by),
            "version": customer.version,
        }
    if change.kind in ("updated", "photo_changed"):
        data["changes"] = [{"field": item.field, "old": item.old, "new": item.new} for item in change.changes]
    record_event(tables, f"customer.{change.kind}", subject, change.at, data)


def record_user_event(tables: Tables, before: User | None, after: User) -> None:
    changes: list[dict[str, Any]] = []
    if before is None:
        event_type = "user.created"
    elif before.deleted_at is None and after.deleted_at is not None:
        event_type = "user.deleted"
    else:
        for field in ("email", "name", "is_admin"):
            old, new = getattr(before, field), getattr(after, field)
            if old != new:
                text = (lambda value: str(value).lower()) if field == "is_admin" else str
                changes.append({"field": field, "old": text(old), "new": text(new)})
        if not changes:
            return
        event_type = "user.updated"
    data: dict[str, Any] = {
        "id": str(after.id),
        "email": str(after.email),
        "name": str(after.name),
        "is_admin": after.is_admin,
        "created_at": _time(after.created_at),
        "updated_at": _time(after.updated_at),
        "version": after.version,
    }
    if changes:
        data["changes"] = changes
    record_event(tables, event_type, f"user:{after.id}", after.updated_at, data)


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
