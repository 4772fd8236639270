"""The webhook delivery queue in PostgreSQL: workers claim due deliveries with ``FOR UPDATE SKIP LOCKED`` inside a
transaction that they keep open while sending; a dedicated connection LISTENs for committed events to wake them.

If a worker dies, its transaction ends, the locks go, and the deliveries are due again for the next worker. A delivery
is only claimed while no earlier delivery of the same subject to the same webhook is pending, which keeps each
customer's events in commit order.
"""

from __future__ import annotations

import logging
from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.integrations.tables import webhook_attempts, webhook_deliveries, webhook_events, webhooks
from adapters.sql.integrations.webhooks import CHANNEL, WEBHOOK_COLUMNS, creator, webhook_of
from adapters.sql.wake_ups import WakeUps
from application.ports.webhooks import Attempt, ClaimedDeliveries, DeliveryQueue, DueDelivery, OutboxStats
from domain.webhooks import DeliveryStatus, WebhookEvent

logger = logging.getLogger("crm.webhooks")

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
        *WEBHOOK_COLUMNS,
    )
    .select_from(
        webhook_deliveries.join(webhook_events, webhook_events.c.seq == webhook_deliveries.c.event_seq)
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .join(creator, creator.c.id == webhooks.c.created_by)
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
                webhook=webhook_of(row),
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
        self._engine = engine
        # Without the listener the workers still find work by their idle timeout.
        self._wake_ups = WakeUps(dsn, CHANNEL, "crm-webhooks", logger)

    def claim(self, limit: int, now: datetime) -> SqlClaimedDeliveries:
        return SqlClaimedDeliveries(self._engine, limit, now)

    async def wait_for_work(self, seconds: float) -> None:
        await self._wake_ups.wait(seconds)

    async def close(self) -> None:
        await self._wake_ups.close()

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
