"""Webhooks: endpoints outside the CRM that hear about changes of customers and users, and their deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from domain.users import UserRef

CUSTOMER_EVENTS = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.restored",
    "customer.erased",
    "customer.photo_changed",
)
USER_EVENTS = ("user.created", "user.updated", "user.deleted")
EVENT_TYPES: tuple[str, ...] = (*CUSTOMER_EVENTS, *USER_EVENTS)
ALL_EVENTS = "*"
# Sent on request to one webhook only, to check that it answers.
TEST_EVENT = "webhook.test"

DeliveryStatus = Literal["pending", "delivered", "failed"]

# A rotated-out secret keeps signing alongside the new one this long, so that receivers can switch over.
SECRET_OVERLAP = timedelta(hours=24)


@dataclass(slots=True)
class Webhook:
    id: UUID
    url: str
    events: tuple[str, ...]
    description: str | None
    active: bool
    secret: str
    created_at: datetime
    created_by: UserRef
    updated_at: datetime
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None

    def wants(self, event_type: str) -> bool:
        return self.active and (ALL_EVENTS in self.events or event_type in self.events)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while its overlap lasts."""
        secrets = [self.secret]
        if (
            self.previous_secret is not None
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            secrets.append(self.previous_secret)
        return secrets

    def rotate_secret(self, new_secret: str, now: datetime) -> None:
        self.previous_secret, self.previous_secret_until = self.secret, now + SECRET_OVERLAP
        self.secret = new_secret
        self.updated_at = now


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One entry of the outbox: what happened, to whom (``subject``), with the data a receiver gets."""

    id: UUID
    type: str
    subject: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event on its way to one webhook."""

    id: UUID
    webhook_id: UUID
    event_id: UUID
    type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    # Position in the webhook's list of deliveries (the outbox sequence): newer is higher.
    seq: int = 0
