"""A webhook's deliveries, for admins: send a test event, see the deliveries, retry one.

Making the deliveries (signing, retries, the worker) is ``webhook_delivery.py``.
"""

from __future__ import annotations

from uuid import UUID

from application.access.authorization import require_admin
from application.integrations.webhooks import WEBHOOK_NOT_FOUND, parse_webhook_id
from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports.persistence import UnitOfWorkFactory
from application.ports.system import Clock, IdGenerator
from domain.errors import MalformedRequest, NotFound
from domain.sign_in import Actor
from domain.webhooks import TEST_EVENT, Delivery, WebhookEvent


class SendTestEvent:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow, self._clock, self._ids = uow, clock, ids

    async def execute(self, actor: Actor, webhook_id: str) -> WebhookEvent:
        require_admin(actor)
        async with self._uow() as uow:
            webhook = await uow.webhooks.get(parse_webhook_id(webhook_id))
            if webhook is None:
                raise NotFound(WEBHOOK_NOT_FOUND)
            event = WebhookEvent(
                id=self._ids.new_id(),
                type=TEST_EVENT,
                subject=f"webhook:{webhook.id}",
                occurred_at=self._clock.now(),
                data={"webhook_id": str(webhook.id)},
            )
            await uow.webhooks.add_test_event(webhook.id, event)
            await uow.commit()
        return event


class ListWebhookDeliveries:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, webhook_id: str, *, limit: int, cursor: str | None = None) -> Page[Delivery]:
        require_admin(actor)
        check_limit(limit)
        before = None
        if cursor is not None:
            (position,) = decode_cursor(cursor, 1)
            if not position.isdigit():
                raise MalformedRequest("The cursor is not valid.")
            before = int(position)
        identifier = parse_webhook_id(webhook_id)
        async with self._uow.for_reading() as uow:
            if await uow.webhooks.get(identifier) is None:
                raise NotFound(WEBHOOK_NOT_FOUND)
            deliveries = await uow.webhooks.list_deliveries(identifier, limit + 1, before)
        return page_of(deliveries, limit, lambda last: (str(last.seq),))


class RetryWebhookDelivery:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, webhook_id: str, delivery_id: str) -> None:
        require_admin(actor)
        identifier = parse_webhook_id(webhook_id)
        try:
            delivery = UUID(delivery_id)
        except ValueError as error:
            raise NotFound("No such delivery.") from error
        async with self._uow() as uow:
            if not await uow.webhooks.retry_delivery(identifier, delivery, self._clock.now()):
                raise NotFound("No such delivery.")
            await uow.commit()
