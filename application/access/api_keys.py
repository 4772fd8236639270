"""Managing API keys (admins only): make one, list them, delete one.

A key is shown once, when it is made; only its SHA-256 is kept. Deleting a key ends its use at once on
every replica: the use case forgets it here, and the database announces it to the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from application.access.authorization import require_admin
from application.pagination import Page, check_limit, decode_time_and_id, time_and_id_page
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import ActorLookup
from application.ports.system import Clock, IdGenerator
from application.validation import Problems
from domain.api_keys import ApiKey, ApiKeyScope, new_key_secret
from domain.errors import NotFound
from domain.sign_in import Actor
from domain.values import PersonName

API_KEY_NOT_FOUND = "No such API key."
_ADMINS_ONLY = "Only admins may manage API keys."


@dataclass(frozen=True, slots=True)
class NewApiKey:
    name: str
    scopes: Sequence[str]
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A new key and its secret, which is never shown again."""

    api_key: ApiKey
    key: str


def _parse_name(name: str, problems: Problems) -> str:
    # A key is named like a person: it appears where a person's name would, as created_by and updated_by.
    return str(problems.run(lambda: PersonName(name)) or "")


def _parse_scopes(scopes: Sequence[str], problems: Problems) -> frozenset[ApiKeyScope]:
    known = {scope.value: scope for scope in ApiKeyScope}
    unknown = [scope for scope in scopes if scope not in known]
    if unknown:
        problems.add("scopes", f"unknown scopes {', '.join(unknown)}; known: {', '.join(known)}")
    elif not scopes:
        problems.add("scopes", "must name at least one scope")
    return frozenset(known[scope] for scope in scopes if scope in known)


def _parse_expiry(expires_at: datetime | None, now: datetime, problems: Problems) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at <= now:
        problems.add("expires_at", "must be in the future")
    # Shown in UTC, as every time the service gives.
    return expires_at.astimezone(UTC)


def _parse_key_id(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError as error:
        raise NotFound(API_KEY_NOT_FOUND) from error


class CreateApiKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow, self._clock, self._ids = uow, clock, ids

    async def execute(self, actor: Actor, new: NewApiKey) -> IssuedApiKey:
        require_admin(actor, _ADMINS_ONLY)
        now = self._clock.now()
        problems = Problems()
        name = _parse_name(new.name, problems)
        scopes = _parse_scopes(new.scopes, problems)
        expires_at = _parse_expiry(new.expires_at, now, problems)
        problems.raise_if_any()
        secret = new_key_secret()
        api_key = ApiKey(
            id=self._ids.new_id(),
            name=name,
            scopes=scopes,
            prefix=secret.prefix,
            key_hash=secret.key_hash,
            created_at=now,
            created_by=actor.ref,
            expires_at=expires_at,
        )
        async with self._uow() as uow:
            await uow.api_keys.add(api_key)
            await uow.commit()
        return IssuedApiKey(api_key, secret.key)


class ListApiKeys:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, *, limit: int, cursor: str | None = None) -> Page[ApiKey]:
        require_admin(actor, _ADMINS_ONLY)
        check_limit(limit)
        after = decode_time_and_id(cursor)
        async with self._uow.for_reading() as uow:
            keys = await uow.api_keys.list(limit + 1, after)
        return time_and_id_page(keys, limit, lambda last: (last.created_at, last.id))


class DeleteApiKey:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actors: ActorLookup) -> None:
        self._uow, self._clock, self._actors = uow, clock, actors

    async def execute(self, actor: Actor, key_id: str) -> None:
        require_admin(actor, _ADMINS_ONLY)
        found_id = _parse_key_id(key_id)
        async with self._uow() as uow:
            if not await uow.api_keys.delete(found_id, self._clock.now()):
                raise NotFound(API_KEY_NOT_FOUND)
            await uow.commit()
        self._actors.forget_api_key(found_id)
