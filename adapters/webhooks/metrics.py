"""Webhook metrics: deliveries by outcome, the outbox's depth and the age of its oldest undelivered event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from prometheus_client import Counter, Gauge

from application.ports.webhooks import DeliveryQueue

logger = logging.getLogger("crm.webhooks")

DELIVERIES = Counter(
    "crm_webhook_deliveries_total",
    "Webhook delivery attempts by outcome: delivered, retrying, failed (gave up after a day), disabled (410).",
    ["outcome"],
)
OUTBOX_DEPTH = Gauge("crm_webhook_outbox_pending", "Webhook deliveries not yet delivered or given up.")
OLDEST_PENDING = Gauge(
    "crm_webhook_outbox_oldest_pending_seconds", "Age of the event behind the oldest pending webhook delivery."
)


def count_outcome(outcome: str) -> None:
    DELIVERIES.labels(outcome).inc()


async def watch_outbox(queue: DeliveryQueue, now: Callable[[], datetime], interval: float = 15.0) -> None:
    """Refresh the outbox gauges every ``interval`` seconds until cancelled."""
    while True:
        with contextlib.suppress(Exception):
            stats = await queue.stats(now())
            OUTBOX_DEPTH.set(stats.pending)
            OLDEST_PENDING.set(stats.oldest_pending_age)
        await asyncio.sleep(interval)
