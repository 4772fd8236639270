"""Webhook ports: the endpoints admins manage (in the unit of work), the outbox's delivery queue, and the sender."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from domain.webhooks import Delivery, DeliveryStatus, Webhook, WebhookEvent


class WebhookRepository(ABC):
    """Webhooks and their deliveries, in the unit of work's transaction."""

    @abstractmethod
    async def add(self, webhook: Webhook) -> None: ...

    @abstractmethod
    async def get(self, webhook_id: UUID, *, for_update: bool = False) -> Webhook | None: ...

    @abstractmethod
    async def update(self, webhook: Webhook) -> None: ...

    @abstractmethod
    async def delete(self, webhook_id: UUID) -> None:
        """The webhook and its deliveries."""

    @abstractmethod
    async def list_webhooks(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[Webhook]:
        """Oldest first, by creation time then id; at most ``limit``, strictly after ``after``."""

    @abstractmethod
    async def list_deliveries(self, webhook_id: UUID, limit: int, before: int | None = None) -> list[Delivery]:
        """The webhook's deliveries newest first (by outbox sequence), strictly before ``before``."""

    @abstractmethod
    async def retry_delivery(self, webhook_id: UUID, delivery_id: UUID, at: datetime) -> bool:
        """Make the delivery pending and due at ``at``; False when the webhook has no such delivery."""

    @abstractmethod
    async def add_test_event(self, webhook_id: UUID, event: WebhookEvent) -> None:
        """Put ``event`` into the outbox for this one webhook."""


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A claimed delivery with what sending it needs."""

    id: UUID
    attempts: int
    created_at: datetime
    event: WebhookEvent
    webhook: Webhook


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one try went: the answer's status (None when there was no answer), and the answer's first KiB."""

    at: datetime
    status_code: int | None
    duration_ms: int
    excerpt: str


@dataclass(frozen=True, slots=True)
class OutboxStats:
    pending: int
    # Seconds since the oldest pending delivery's event happened; 0 when none is pending.
    oldest_pending_age: float


class ClaimedDeliveries(ABC):
    """Due deliveries held by one worker until ``commit`` (or released untouched when the block ends without it).

    Other workers skip them, and later deliveries of the same subject to the same webhook wait for them.
    """

    deliveries: list[DueDelivery]

    @abstractmethod
    async def __aenter__(self) -> Self: ...

    @abstractmethod
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    @abstractmethod
    async def settle(
        self,
        delivery: DueDelivery,
        attempt: Attempt,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        *,
        disable_webhook: bool = False,
    ) -> None:
        """Record the attempt and the delivery's new state."""

    @abstractmethod
    async def commit(self) -> None: ...


class DeliveryQueue(ABC):
    @abstractmethod
    def claim(self, limit: int, now: datetime) -> ClaimedDeliveries:
        """At most ``limit`` pending deliveries due at ``now``, each the earliest pending one of its subject."""

    @abstractmethod
    async def wait_for_work(self, seconds: float) -> None:
        """Return when an event was committed (or may have been), or after ``seconds``."""

    @abstractmethod
    async def next_due(self, after: datetime) -> datetime | None:
        """When the earliest pending delivery to an active webhook that is due later than ``after`` is due."""

    @abstractmethod
    async def stats(self, now: datetime) -> OutboxStats: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    duration_ms: int
    # The first 1 KiB of the answer, or why there was no answer.
    excerpt: str


class WebhookSender(ABC):
    @abstractmethod
    async def check_destination(self, url: str) -> None:
        """``InvalidInput`` on ``url`` when deliveries to it would be refused (scheme, or an address it resolves to)."""

    @abstractmethod
    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        """POST once, without following redirects; a refused or failed destination is a result, never an error."""
