"""The JSON shapes of the webhook endpoints (contract version 1.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from adapters.http.common.schemas import Strict, UserRefOut
from domain.webhooks import EVENT_TYPES, Delivery, DeliveryStatus, Webhook

UrlText = Annotated[
    str,
    Meta(
        max_length=2000,
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$",
        description="Where deliveries go: https (http only outside production), to a public address.",
        examples=["https://shop.example.com/hooks/crm"],
    ),
]
EventType = Annotated[
    str,
    Meta(
        pattern=r"^(\*|customer\.(created|updated|deleted|restored|erased|photo_changed)|user\.(created|updated|deleted))$",
        description="An event type, or * for all.",
    ),
]
DescriptionText = Annotated[str, Meta(max_length=500, description="What the webhook is for.")]
EventList = Annotated[
    list[EventType],
    Meta(
        min_length=1,
        max_length=50,
        description='Event types, or ["*"] for all.',
        # Litestar drops the items' own constraints from the document; state them here.
        extra_json_schema={"extra": {"items": {"type": "string", "enum": ["*", *EVENT_TYPES]}}},
    ),
]


class WebhookCreate(Strict):
    url: UrlText
    events: EventList
    description: DescriptionText | None = None


class WebhookPatch(Strict):
    url: UrlText | UnsetType = UNSET
    events: EventList | UnsetType = UNSET
    description: DescriptionText | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET

    def present(self) -> dict[str, object]:
        return {name: value for name in self.__struct_fields__ if (value := getattr(self, name)) is not UNSET}


class WebhookOut(Struct):
    id: UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime
    created_by: UserRefOut

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        return cls(
            webhook.id,
            webhook.url,
            list(webhook.events),
            webhook.description,
            webhook.active,
            webhook.created_at,
            UserRefOut.of(webhook.created_by),
        )


class WebhookWithSecret(WebhookOut):
    """Only the answers to creation and rotation carry the secret."""

    secret: str = ""

    @classmethod
    def with_secret(cls, webhook: Webhook) -> WebhookWithSecret:
        out = WebhookOut.of(webhook)
        return cls(**{name: getattr(out, name) for name in out.__struct_fields__}, secret=webhook.secret)


class WebhookPage(Struct):
    items: list[WebhookOut]
    next_cursor: str | None


class DeliveryOut(Struct):
    id: UUID
    event_id: UUID
    type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            delivery.id,
            delivery.event_id,
            delivery.type,
            delivery.status,
            delivery.attempts,
            delivery.last_status_code,
            delivery.last_attempt_at,
            delivery.next_attempt_at,
        )


class DeliveryPage(Struct):
    items: list[DeliveryOut]
    next_cursor: str | None


class Accepted(Struct):
    status: str
