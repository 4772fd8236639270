"""The outbox in memory: the in-memory twin of migration 0004's triggers.

Every change of a customer or a user leaves an event here, recorded by the customer history and the user repository in
the same (in-memory) transaction as the change, so a discarded change leaves no event either. It sits beside the
store, not in the webhooks package, as the triggers sit in the database: customers and webhooks never import each other.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from adapters.memory.store import StoredDelivery, Tables
from domain.customer_history import CustomerChange
from domain.users import User, UserRef
from domain.webhooks import WebhookEvent


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


def customer_event_data(tables: Tables, change: CustomerChange) -> dict[str, Any]:
    """The body's ``data`` of the change's event, as migration 0008's ``crm_customer_event_data`` builds it (for the
    webhooks and live changes alike)."""
    data: dict[str, Any] = {"id": str(change.customer_id)}
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
    return data


def record_customer_event(tables: Tables, change: CustomerChange, data: dict[str, Any]) -> None:
    subject = f"customer:{change.customer_id}"
    if change.kind == "erased":
        # Erasure (GDPR Art. 17): the customer's earlier events, pending or delivered, keep only its id.
        for seq, event in tables.webhook_events.items():
            if event.subject == subject:
                tables.webhook_events[seq] = replace(event, data={"id": str(change.customer_id)})
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
