"""Managing webhooks (admins only): register, list, read, change, delete, rotate the secret.

Testing a webhook and seeing or retrying its deliveries are in ``webhook_deliveries.py``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.access.authorization import require_admin
from application.pagination import Page, check_limit, decode_time_and_id, time_and_id_page
from application.ports.persistence import UnitOfWorkFactory
from application.ports.system import Clock, IdGenerator
from application.ports.webhooks import WebhookSender
from application.validation import Problems
from domain.errors import InvalidInput, NotFound
from domain.sign_in import Actor
from domain.webhooks import ALL_EVENTS, EVENT_TYPES, Webhook

WEBHOOK_NOT_FOUND = "No such webhook."
MAX_URL_LENGTH = 2000
MAX_DESCRIPTION_LENGTH = 500


def new_webhook_secret() -> str:
    """``whsec_`` and 32 random bytes in base64, as Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True, slots=True)
class NewWebhook:
    url: str
    events: Sequence[str]
    description: str | None = None


def _parse_events(events: Sequence[str], problems: Problems) -> tuple[str, ...]:
    if not events:
        problems.add("events", 'must name at least one event type, or be ["*"]')
        return ()
    unknown = [event for event in events if event != ALL_EVENTS and event not in EVENT_TYPES]
    if unknown:
        problems.add("events", f"unknown event types {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}")
    if ALL_EVENTS in events:
        return (ALL_EVENTS,)
    return tuple(dict.fromkeys(events))


def _parse_description(description: str | None, problems: Problems) -> str | None:
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        problems.add("description", f"must be at most {MAX_DESCRIPTION_LENGTH} characters")
    return description or None


async def _check_url(sender: WebhookSender, url: str, problems: Problems) -> None:
    if len(url) > MAX_URL_LENGTH:
        problems.add("url", f"must be at most {MAX_URL_LENGTH} characters")
        return
    try:
        await sender.check_destination(url)
    except InvalidInput as error:
        for problem in error.problems:
            problems.add(problem.field, problem.message)


def parse_webhook_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as error:
        raise NotFound(WEBHOOK_NOT_FOUND) from error


class CreateWebhook:
    def __init__(self, uow: UnitOfWorkFactory, sender: WebhookSender, clock: Clock, ids: IdGenerator) -> None:
        self._uow, self._sender, self._clock, self._ids = uow, sender, clock, ids

    async def execute(self, actor: Actor, new: NewWebhook) -> Webhook:
        require_admin(actor)
        problems = Problems()
        await _check_url(self._sender, new.url, problems)
        events = _parse_events(new.events, problems)
        description = _parse_description(new.description, problems)
        problems.raise_if_any()
        now = self._clock.now()
        webhook = Webhook(
            id=self._ids.new_id(),
            url=new.url,
            events=events,
            description=description,
            active=True,
            secret=new_webhook_secret(),
            created_at=now,
            created_by=actor.ref,
            updated_at=now,
        )
        async with self._uow() as uow:
            await uow.webhooks.add(webhook)
            await uow.commit()
        return webhook


class ListWebhooks:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, *, limit: int, cursor: str | None = None) -> Page[Webhook]:
        require_admin(actor)
        check_limit(limit)
        after = decode_time_and_id(cursor)
        async with self._uow.for_reading() as uow:
            webhooks = await uow.webhooks.list_webhooks(limit + 1, after)
        return time_and_id_page(webhooks, limit, lambda last: (last.created_at, last.id))


class GetWebhook:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, webhook_id: str) -> Webhook:
        require_admin(actor)
        async with self._uow.for_reading() as uow:
            webhook = await uow.webhooks.get(parse_webhook_id(webhook_id))
        if webhook is None:
            raise NotFound(WEBHOOK_NOT_FOUND)
        return webhook


class UpdateWebhook:
    """A merge patch of url, events, description and active."""

    def __init__(self, uow: UnitOfWorkFactory, sender: WebhookSender, clock: Clock) -> None:
        self._uow, self._sender, self._clock = uow, sender, clock

    async def execute(self, actor: Actor, webhook_id: str, patch: Mapping[str, Any]) -> Webhook:
        require_admin(actor)
        problems = Problems()
        if "url" in patch:
            await _check_url(self._sender, patch["url"], problems)
        events = _parse_events(patch["events"], problems) if "events" in patch else None
        description = _parse_description(patch.get("description"), problems)
        problems.raise_if_any()
        async with self._uow() as uow:
            webhook = await uow.webhooks.get(parse_webhook_id(webhook_id), for_update=True)
            if webhook is None:
                raise NotFound(WEBHOOK_NOT_FOUND)
            webhook.url = patch.get("url", webhook.url)
            webhook.events = events if events is not None else webhook.events
            if "description" in patch:
                webhook.description = description
            webhook.active = patch.get("active", webhook.active)
            webhook.updated_at = self._clock.now()
            await uow.webhooks.update(webhook)
            await uow.commit()
        return webhook


class DeleteWebhook:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, webhook_id: str) -> None:
        require_admin(actor)
        async with self._uow() as uow:
            webhook = await uow.webhooks.get(parse_webhook_id(webhook_id), for_update=True)
            if webhook is None:
                raise NotFound(WEBHOOK_NOT_FOUND)
            await uow.webhooks.delete(webhook.id)
            await uow.commit()


class RotateWebhookSecret:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    async def execute(self, actor: Actor, webhook_id: str) -> Webhook:
        require_admin(actor)
        async with self._uow() as uow:
            webhook = await uow.webhooks.get(parse_webhook_id(webhook_id), for_update=True)
            if webhook is None:
                raise NotFound(WEBHOOK_NOT_FOUND)
            webhook.rotate_secret(new_webhook_secret(), self._clock.now())
            await uow.webhooks.update(webhook)
            await uow.commit()
        return webhook
