"""Webhooks and their deliveries in PostgreSQL, in the unit of work's transaction.

The outbox itself is written by triggers (migration 0004); ``webhook_queue`` is where workers claim from it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Row, delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.access.user_tables import users
from adapters.sql.integrations.tables import webhook_deliveries, webhook_events, webhooks
from application.ports.webhooks import (
    WebhookRepository,
)
from domain.users import UserRef
from domain.webhooks import Delivery, Webhook, WebhookEvent

# The channel the outbox trigger notifies (migration 0004).
CHANNEL = "crm_webhook_events"

creator = users.alias("creator")
WEBHOOK_COLUMNS = (*webhooks.c, creator.c.name.label("creator_name"))
_WEBHOOKS = select(*WEBHOOK_COLUMNS).select_from(webhooks.join(creator, creator.c.id == webhooks.c.created_by))
_DELIVERIES = select(webhook_deliveries, webhook_events.c.id.label("event_id"), webhook_events.c.type).select_from(
    webhook_deliveries.join(webhook_events, webhook_events.c.seq == webhook_deliveries.c.event_seq)
)


def webhook_of(row: Row[Any]) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        events=tuple(row.events),
        description=row.description,
        active=row.active,
        secret=row.secret,
        created_at=row.created_at,
        created_by=UserRef(row.created_by, row.creator_name),
        updated_at=row.updated_at,
        previous_secret=row.previous_secret,
        previous_secret_until=row.previous_secret_until,
    )


def _delivery(row: Row[Any]) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        event_id=row.event_id,
        type=row.type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        seq=row.event_seq,
    )


def _webhook_values(webhook: Webhook) -> dict[str, Any]:
    return {
        "url": webhook.url,
        "events": list(webhook.events),
        "description": webhook.description,
        "active": webhook.active,
        "secret": webhook.secret,
        "previous_secret": webhook.previous_secret,
        "previous_secret_until": webhook.previous_secret_until,
        "updated_at": webhook.updated_at,
    }


class SqlWebhookRepository(WebhookRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, webhook: Webhook) -> None:
        await self._connection.execute(
            insert(webhooks).values(
                id=webhook.id,
                created_at=webhook.created_at,
                created_by=webhook.created_by.id,
                **_webhook_values(webhook),
            )
        )

    async def get(self, webhook_id: UUID, *, for_update: bool = False) -> Webhook | None:
        statement = _WEBHOOKS.where(webhooks.c.id == webhook_id)
        if for_update:
            statement = statement.with_for_update(of=webhooks)
        row = (await self._connection.execute(statement)).first()
        return None if row is None else webhook_of(row)

    async def update(self, webhook: Webhook) -> None:
        await self._connection.execute(
            update(webhooks).where(webhooks.c.id == webhook.id).values(**_webhook_values(webhook))
        )

    async def delete(self, webhook_id: UUID) -> None:
        await self._connection.execute(delete(webhooks).where(webhooks.c.id == webhook_id))

    async def list_webhooks(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[Webhook]:
        statement = _WEBHOOKS
        if after is not None:
            statement = statement.where(tuple_(webhooks.c.created_at, webhooks.c.id) > tuple_(*after))
        statement = statement.order_by(webhooks.c.created_at, webhooks.c.id).limit(limit)
        return [webhook_of(row) for row in await self._connection.execute(statement)]

    async def list_deliveries(self, webhook_id: UUID, limit: int, before: int | None = None) -> list[Delivery]:
        statement = _DELIVERIES.where(webhook_deliveries.c.webhook_id == webhook_id)
        if before is not None:
            statement = statement.where(webhook_deliveries.c.event_seq < before)
        statement = statement.order_by(webhook_deliveries.c.event_seq.desc()).limit(limit)
        return [_delivery(row) for row in await self._connection.execute(statement)]

    async def retry_delivery(self, webhook_id: UUID, delivery_id: UUID, at: datetime) -> bool:
        result = await self._connection.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.webhook_id == webhook_id)
            .values(status="pending", next_attempt_at=at)
            .returning(webhook_deliveries.c.id)
        )
        found = result.first() is not None
        if found:
            await self._connection.execute(select(func.pg_notify(CHANNEL, "")))
        return found

    async def add_test_event(self, webhook_id: UUID, event: WebhookEvent) -> None:
        seq = (
            await self._connection.execute(
                insert(webhook_events)
                .values(
                    id=event.id, type=event.type, subject=event.subject, occurred_at=event.occurred_at, data=event.data
                )
                .returning(webhook_events.c.seq)
            )
        ).scalar_one()
        await self._connection.execute(
            insert(webhook_deliveries).values(
                id=uuid4(),
                webhook_id=webhook_id,
                event_seq=seq,
                subject=event.subject,
                status="pending",
                attempts=0,
                created_at=event.occurred_at,
                next_attempt_at=event.occurred_at,
            )
        )
        await self._connection.execute(select(func.pg_notify(CHANNEL, "")))
