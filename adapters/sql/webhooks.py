"""Webhooks, their deliveries and the delivery queue in PostgreSQL.

The outbox itself is written by triggers (migration 0003). Workers claim deliveries with ``FOR UPDATE SKIP LOCKED``
inside a transaction that they keep open while sending: if a worker dies, its transaction ends, the locks go, and the
deliveries are due again for the next worker. A delivery is only claimed while no earlier delivery of the same subject
to the same webhook is pending, which keeps each customer's events in commit order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID, uuid4

import asyncpg
from sqlalchemy import Row, and_, delete, exists, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.tables import users, webhook_attempts, webhook_deliveries, webhook_events, webhooks
from application.ports.webhooks import (
    Attempt,
    ClaimedDeliveries,
    DeliveryQueue,
    DueDelivery,
    OutboxStats,
    WebhookRepository,
)
from domain.users import UserRef
from domain.webhooks import Delivery, DeliveryStatus, Webhook, WebhookEvent

# The channel the outbox trigger notifies (migration 0003).
CHANNEL = "crm_webhook_events"
logger = logging.getLogger("crm.webhooks")

_creator = users.alias("creator")
_WEBHOOK_COLUMNS = (*webhooks.c, _creator.c.name.label("creator_name"))
_WEBHOOKS = select(*_WEBHOOK_COLUMNS).select_from(webhooks.join(_creator, _creator.c.id == webhooks.c.created_by))
_DELIVERIES = select(webhook_deliveries, webhook_events.c.id.label("event_id"), webhook_events.c.type).select_from(
    webhook_deliveries.join(webhook_events, webhook_events.c.seq == webhook_deliveries.c.event_seq)
)


def _webhook(row: Row[Any]) -> Webhook:
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
        return None if row is None else _webhook(row)

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
        return [_webhook(row) for row in await self._connection.execute(statement)]

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


_earlier = webhook_deliveries.alias("earlier")
_CLAIM = (
    select(
        webhook_deliveries.c.id.label("delivery_id"),
        webhook_deliveries.c.attempts,
        webhook_deliveries.c.created_at.label("delivery_created_at"),
        webhook_events.c.id.label("event_id"),
        webhook_events.c.type.label("event_type"),
        webhook_events.c.subject,
        webhook_events.c.occurred_at,
        webhook_events.c.data,
        *_WEBHOOK_COLUMNS,
    )
    .select_from(
        webhook_deliveries.join(webhook_events, webhook_events.c.seq == webhook_deliveries.c.event_seq)
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .join(_creator, _creator.c.id == webhooks.c.created_by)
    )
    .where(
        webhook_deliveries.c.status == "pending",
        webhooks.c.active,
        ~exists().where(
            and_(
                _earlier.c.webhook_id == webhook_deliveries.c.webhook_id,
                _earlier.c.subject == webhook_deliveries.c.subject,
                _earlier.c.status == "pending",
                _earlier.c.event_seq < webhook_deliveries.c.event_seq,
            )
        ),
    )
    .order_by(webhook_deliveries.c.next_attempt_at)
)


class SqlClaimedDeliveries(ClaimedDeliveries):
    def __init__(self, engine: AsyncEngine, limit: int, now: datetime) -> None:
        self._engine, self._limit, self._now = engine, limit, now
        self._connection: AsyncConnection | None = None
        self.deliveries = []

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        try:
            await connection.begin()
            statement = (
                _CLAIM.where(webhook_deliveries.c.next_attempt_at <= self._now)
                .limit(self._limit)
                .with_for_update(of=webhook_deliveries, skip_locked=True)
            )
            rows = (await connection.execute(statement)).all()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.deliveries = [
            DueDelivery(
                id=row.delivery_id,
                attempts=row.attempts,
                created_at=row.delivery_created_at,
                event=WebhookEvent(row.event_id, row.event_type, row.subject, row.occurred_at, row.data),
                webhook=_webhook(row),
            )
            for row in rows
        ]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # Without a commit, the claimed deliveries go back untouched (rollback releases the locks).
            await connection.close()

    async def settle(
        self,
        delivery: DueDelivery,
        attempt: Attempt,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        *,
        disable_webhook: bool = False,
    ) -> None:
        assert self._connection is not None
        await self._connection.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery.id)
            .values(
                status=status,
                attempts=webhook_deliveries.c.attempts + 1,
                last_attempt_at=attempt.at,
                last_status_code=attempt.status_code,
                next_attempt_at=next_attempt_at or attempt.at,
            )
        )
        await self._connection.execute(
            insert(webhook_attempts).values(
                delivery_id=delivery.id,
                at=attempt.at,
                status_code=attempt.status_code,
                duration_ms=attempt.duration_ms,
                response_excerpt=attempt.excerpt,
            )
        )
        if disable_webhook:
            await self._connection.execute(
                update(webhooks).where(webhooks.c.id == delivery.webhook.id).values(active=False)
            )

    async def commit(self) -> None:
        assert self._connection is not None
        await self._connection.commit()


class SqlDeliveryQueue(DeliveryQueue):
    """The queue, and a dedicated connection that LISTENs for committed events to wake the workers."""

    def __init__(self, engine: AsyncEngine, dsn: str) -> None:
        self._engine, self._dsn = engine, dsn
        self._woken = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._connecting = asyncio.Lock()

    def claim(self, limit: int, now: datetime) -> SqlClaimedDeliveries:
        return SqlClaimedDeliveries(self._engine, limit, now)

    async def wait_for_work(self, seconds: float) -> None:
        await self._listen()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._woken.wait()
        self._woken.clear()

    async def _listen(self) -> None:
        async with self._connecting:
            if self._listener is not None and not self._listener.is_closed():
                return
            try:
                self._listener = await asyncpg.connect(self._dsn, server_settings={"application_name": "crm-webhooks"})
                await self._listener.add_listener(CHANNEL, lambda *_: self._woken.set())
            except (OSError, asyncpg.PostgresError):
                # Without the listener the workers still find work by their idle timeout.
                logger.warning("Cannot LISTEN for webhook events; falling back to polling.", exc_info=True)
                self._listener = None

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None

    async def next_due(self, after: datetime) -> datetime | None:
        async with self._engine.connect() as connection:
            statement = (
                select(func.min(webhook_deliveries.c.next_attempt_at))
                .select_from(webhook_deliveries.join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id))
                .where(
                    webhook_deliveries.c.status == "pending",
                    webhooks.c.active,
                    webhook_deliveries.c.next_attempt_at > after,
                )
            )
            due: datetime | None = (await connection.execute(statement)).scalar()
            return due

    async def stats(self, now: datetime) -> OutboxStats:
        async with self._engine.connect() as connection:
            statement = (
                select(func.count(), func.min(webhook_events.c.occurred_at))
                .select_from(
                    webhook_deliveries.join(webhook_events, webhook_events.c.seq == webhook_deliveries.c.event_seq)
                )
                .where(webhook_deliveries.c.status == "pending")
            )
            count, oldest = (await connection.execute(statement)).one()
        return OutboxStats(count, 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
