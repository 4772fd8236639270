"""Delivering the outbox: sign each event per Standard Webhooks, send it, retry with backoff, keep order per subject.

A delivery is claimed, sent and settled while the claim is held (see ``ClaimedDeliveries``): a worker that dies after
sending and before settling leaves the delivery pending, and it is sent again. So receivers get every event at least
once, and deduplicate by ``webhook-id``, which is the event's id on every try.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from application.event_body import encode_event_body
from application.ports.system import Clock
from application.ports.webhooks import Attempt, ClaimedDeliveries, DeliveryQueue, DueDelivery, SendResult, WebhookSender
from domain.webhooks import WebhookEvent

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
# Retries: 10 s, 20 s, 40 s ... doubling up to 2 h between tries, each with ±25 % jitter, until a day has passed.
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(hours=24)
JITTER = 0.25


def event_body(event: WebhookEvent) -> bytes:
    return encode_event_body(event.type, event.occurred_at, event.data)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`` with the base64-decoded part after ``whsec_``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def signed_headers(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        # One signature per valid secret, space-separated: receivers accept any of them.
        "webhook-signature": " ".join(sign(secret, message_id, timestamp, body) for secret in secrets),
    }


def next_attempt(attempts: int, first_created: datetime, now: datetime, jitter: Callable[[], float]) -> datetime | None:
    """When to try again after ``attempts`` failed tries; None once a day has passed (the delivery has failed)."""
    wait = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT) * (1 + JITTER * (2 * jitter() - 1))
    due = now + wait
    return None if due - first_created > GIVE_UP_AFTER else due


class DeliverWebhooks:
    """One round of the worker: claim due deliveries, send them at once, settle each."""

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: WebhookSender,
        clock: Clock,
        *,
        batch_size: int = 32,
        on_outcome: Callable[[str], None] = lambda outcome: None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._queue, self._sender, self._clock = queue, sender, clock
        self._batch_size = batch_size
        self._on_outcome = on_outcome
        self._jitter = jitter

    async def execute(self) -> int:
        """How many deliveries were tried."""
        async with self._queue.claim(self._batch_size, self._clock.now()) as claimed:
            if not claimed.deliveries:
                return 0
            results = await asyncio.gather(*(self._send(delivery) for delivery in claimed.deliveries))
            # One after another: the claim is one database connection.
            for delivery, (attempt, result) in zip(claimed.deliveries, results, strict=True):
                await self._settle(claimed, delivery, attempt, result)
            await claimed.commit()
        return len(claimed.deliveries)

    async def _send(self, delivery: DueDelivery) -> tuple[datetime, SendResult]:
        now = self._clock.now()
        body = event_body(delivery.event)
        headers = signed_headers(
            delivery.webhook.signing_secrets(now), str(delivery.event.id), int(now.timestamp()), body
        )
        return now, await self._sender.send(delivery.webhook.url, headers, body)

    async def _settle(
        self, claimed: ClaimedDeliveries, delivery: DueDelivery, now: datetime, result: SendResult
    ) -> None:
        attempt = Attempt(now, result.status_code, result.duration_ms, result.excerpt)
        code = result.status_code
        if code is not None and 200 <= code < 300:
            await claimed.settle(delivery, attempt, "delivered", None)
            outcome = "delivered"
        elif code == 410:
            # The receiver says the endpoint is gone for good: stop sending to it.
            await claimed.settle(delivery, attempt, "failed", None, disable_webhook=True)
            outcome = "disabled"
        else:
            due = next_attempt(delivery.attempts + 1, delivery.created_at, now, self._jitter)
            await claimed.settle(delivery, attempt, "pending" if due else "failed", due)
            outcome = "retrying" if due else "failed"
        self._on_outcome(outcome)


class WebhookWorker:
    """Runs ``DeliverWebhooks`` in a few parallel loops until stopped.

    Each loop works while there is work, and otherwise sleeps until an event is committed (the queue's wake-up), the
    next retry is due, or 30 s have passed (a safety net, not the mechanism). ``stop`` lets each loop finish the
    round it is in: its deliveries are settled and committed, or, if it is cancelled, released untouched.
    """

    IDLE_WAIT = 30.0

    def __init__(self, deliver: DeliverWebhooks, queue: DeliveryQueue, clock: Clock, *, loops: int = 4) -> None:
        self._deliver, self._queue, self._clock, self._loops = deliver, queue, clock, loops
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        await asyncio.gather(*(self._loop() for _ in range(self._loops)))

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                tried = await self._deliver.execute()
            except Exception:
                logger.exception("Delivering webhooks failed; trying again shortly.")
                tried = 0
                await self._sleep(1.0)
                continue
            if tried:
                continue
            await self._sleep(await self._idle_wait())

    async def _idle_wait(self) -> float:
        try:
            due = await self._queue.next_due(self._clock.now())
        except Exception:
            return 1.0
        if due is None:
            return self.IDLE_WAIT
        return max(0.05, min(self.IDLE_WAIT, (due - self._clock.now()).total_seconds()))

    async def _sleep(self, seconds: float) -> None:
        stop = asyncio.ensure_future(self._stopping.wait())
        work = asyncio.ensure_future(self._queue.wait_for_work(seconds))
        try:
            await asyncio.wait({stop, work}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stop, work):
                task.cancel()
