"""The webhook delivery queue in memory, with the SQL adapter's rules: claims skip what others hold, one delivery per
subject and webhook at a time, in outbox order; settling is published when the claim commits."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from adapters.memory.store import InMemoryStore, StoredDelivery
from application.ports.webhooks import Attempt, ClaimedDeliveries, DeliveryQueue, DueDelivery, OutboxStats
from domain.webhooks import DeliveryStatus


class InMemoryClaimedDeliveries(ClaimedDeliveries):
    """Claims are marks in the store; settling writes at once (the worker commits right after)."""

    def __init__(self, store: InMemoryStore, claimed: set[UUID], limit: int, now: datetime) -> None:
        self._store, self._claimed, self._limit, self._now = store, claimed, limit, now
        self._mine: set[UUID] = set()
        self._settled: list[tuple[UUID, StoredDelivery, Attempt, bool]] = []
        self.deliveries = []

    async def __aenter__(self) -> Self:
        tables = self._store.committed
        pending = sorted(
            (d for d in tables.webhook_deliveries.values() if d.status == "pending"), key=lambda d: d.event_seq
        )
        heads: dict[tuple[UUID, str], StoredDelivery] = {}
        for stored in pending:
            heads.setdefault((stored.webhook_id, tables.webhook_events[stored.event_seq].subject), stored)
        due = sorted(
            (
                d
                for d in heads.values()
                if d.next_attempt_at <= self._now and d.id not in self._claimed and tables.webhooks[d.webhook_id].active
            ),
            key=lambda d: d.next_attempt_at,
        )[: self._limit]
        for stored in due:
            self._claimed.add(stored.id)
            self._mine.add(stored.id)
            self.deliveries.append(
                DueDelivery(
                    stored.id,
                    stored.attempts,
                    stored.created_at,
                    tables.webhook_events[stored.event_seq],
                    replace(tables.webhooks[stored.webhook_id]),
                )
            )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._claimed.difference_update(self._mine)

    async def settle(
        self,
        delivery: DueDelivery,
        attempt: Attempt,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        *,
        disable_webhook: bool = False,
    ) -> None:
        stored = self._store.committed.webhook_deliveries[delivery.id]
        updated = replace(
            stored,
            status=status,
            attempts=stored.attempts + 1,
            last_attempt_at=attempt.at,
            last_status_code=attempt.status_code,
            next_attempt_at=next_attempt_at or attempt.at,
        )
        self._settled.append((delivery.webhook.id, updated, attempt, disable_webhook))

    async def commit(self) -> None:
        async with self._store.write_lock:
            tables = self._store.committed.copy()
            for webhook_id, updated, attempt, disable in self._settled:
                if updated.id not in tables.webhook_deliveries:
                    continue  # the webhook was deleted meanwhile
                tables.webhook_deliveries[updated.id] = updated
                row = (updated.id, attempt.at, attempt.status_code, attempt.duration_ms, attempt.excerpt)
                tables.webhook_attempts.append(row)
                if disable and webhook_id in tables.webhooks:
                    tables.webhooks[webhook_id] = replace(tables.webhooks[webhook_id], active=False)
            self._store.committed = tables
        self._settled.clear()


class InMemoryDeliveryQueue(DeliveryQueue):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._claimed: set[UUID] = set()

    def claim(self, limit: int, now: datetime) -> InMemoryClaimedDeliveries:
        return InMemoryClaimedDeliveries(self._store, self._claimed, limit, now)

    async def wait_for_work(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._store.webhook_events_committed.wait()
        self._store.webhook_events_committed.clear()

    async def next_due(self, after: datetime) -> datetime | None:
        tables = self._store.committed
        due = [
            d.next_attempt_at
            for d in tables.webhook_deliveries.values()
            if d.status == "pending" and tables.webhooks[d.webhook_id].active and d.next_attempt_at > after
        ]
        return min(due, default=None)

    async def stats(self, now: datetime) -> OutboxStats:
        tables = self._store.committed
        pending = [d for d in tables.webhook_deliveries.values() if d.status == "pending"]
        oldest = min((tables.webhook_events[d.event_seq].occurred_at for d in pending), default=None)
        return OutboxStats(len(pending), 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
