"""``ActorLookup`` answered from the per-process actor cache (``adapters.sql.access.actor_cache``) when it may."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from adapters.sql.access.actor_cache import ActorCache
from adapters.sql.access.change_listener import AuthChangeListener
from application.access.changes import AccessChange, AccessChanges
from application.ports.security import ActorLookup
from domain.sign_in import Actor


class ActorLookupWithExpiry(Protocol):
    """What the cache needs from the database (``SqlActorLookup``): the actor and the end of the session."""

    async def find_with_expiry(self, session_id: UUID, user_id: UUID, now: datetime) -> tuple[Actor, datetime] | None:
        """The actor and its session's expiry if the session is active and its user active, else None."""

    async def find_api_key_with_expiry(self, key_hash: str, now: datetime) -> tuple[Actor, datetime] | None:
        """The API key's actor and its expiry (``datetime.max`` for none) if the key is usable, else None."""

    async def record_api_key_use(self, key_id: UUID, at: datetime) -> None: ...


class CachedActorLookup(ActorLookup):
    """``ActorLookup`` answered from the per-process cache when it may, else from ``inner``."""

    def __init__(
        self,
        inner: ActorLookupWithExpiry,
        *,
        dsn: str,
        cache: ActorCache | None = None,
        ping_interval: float = 5.0,
        retry_min: float = 1.0,
        access_changes: AccessChanges | None = None,
    ) -> None:
        self._inner = inner
        # The cache stops answering when the listener has not been heard from for three pings.
        self.cache = cache if cache is not None else ActorCache(liveness=3 * ping_interval)
        # Whatever the cache hears (and this process's own changes, below) goes on to open streams.
        self.access_changes = access_changes if access_changes is not None else AccessChanges()
        self.cache.on_change = lambda payload: self.access_changes.announce(AccessChange.of_notification(payload))
        self.access_changes.announced = lambda: self.cache.answering
        self._listener = AuthChangeListener(dsn, self.cache, ping_interval=ping_interval, retry_min=retry_min)

    async def start(self) -> None:
        """Start listening; until the listener is connected, every lookup goes to the database."""
        await self._listener.start()

    async def aclose(self) -> None:
        await self._listener.aclose()

    def forget_user(self, user_id: UUID) -> None:
        # This process made the change: it must not wait for its own notification to come round.
        self.cache.forget_user(user_id)
        self.access_changes.announce(AccessChange("user", user_id))

    def forget_session(self, session_id: UUID) -> None:
        self.cache.forget_session(session_id)
        self.access_changes.announce(AccessChange("session", session_id))

    def forget_api_key(self, key_id: UUID) -> None:
        self.cache.forget_session(key_id)
        self.access_changes.announce(AccessChange("api_key", key_id))

    async def record_api_key_use(self, key_id: UUID, at: datetime) -> None:
        await self._inner.record_api_key_use(key_id, at)

    async def find_api_key(self, key_hash: str, now: datetime) -> Actor | None:
        cache = self.cache
        actor = cache.get_api_key(key_hash, now)
        if actor is not None:
            return actor
        generation = cache.generation
        found = await self._inner.find_api_key_with_expiry(key_hash, now)
        if found is None:
            return None
        actor, expires_at = found
        cache.put(actor, expires_at, generation, key_hash=key_hash)
        return actor

    async def find(self, session_id: UUID, user_id: UUID, now: datetime) -> Actor | None:
        cache = self.cache
        actor = cache.get(session_id, user_id, now)
        if actor is not None:
            return actor
        generation = cache.generation
        found = await self._inner.find_with_expiry(session_id, user_id, now)
        if found is None:
            return None
        actor, expires_at = found
        cache.put(actor, expires_at, generation)
        return actor
