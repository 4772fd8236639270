"""Who is behind an access token or an API key, answered from the in-memory store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from adapters.memory.store import InMemoryStore
from application.access.changes import AccessChange, AccessChanges
from application.ports.security import ActorLookup
from domain.sign_in import Actor


class InMemoryActorLookup(ActorLookup):
    def __init__(self, store: InMemoryStore, access_changes: AccessChanges | None = None) -> None:
        self._store = store
        # Nothing to forget (every answer is read afresh), but open streams must hear of the change.
        self.access_changes = access_changes if access_changes is not None else AccessChanges()

    def forget_user(self, user_id: UUID) -> None:
        self.access_changes.announce(AccessChange("user", user_id))

    def forget_session(self, session_id: UUID) -> None:
        self.access_changes.announce(AccessChange("session", session_id))

    def forget_api_key(self, key_id: UUID) -> None:
        self.access_changes.announce(AccessChange("api_key", key_id))

    async def find_api_key(self, key_hash: str, now: datetime) -> Actor | None:
        for key in self._store.committed.api_keys.values():
            if key.key_hash == key_hash and key.is_usable(now):
                return Actor.of_api_key(key.id, key.name, key.scopes)
        return None

    async def record_api_key_use(self, key_id: UUID, at: datetime) -> None:
        # A write like any other: behind the store's lock, so that no unit of work's commit undoes it.
        async with self._store.write_lock:
            tables = self._store.committed
            key = tables.api_keys.get(key_id)
            if key is not None and (key.last_used_at is None or key.last_used_at < at):
                used = replace(key, last_used_at=at)
                self._store.committed = replace(tables, api_keys={**tables.api_keys, key_id: used})

    async def find(self, session_id: UUID, user_id: UUID, now: datetime) -> Actor | None:
        tables = self._store.committed
        session = tables.sign_in_sessions.get(session_id)
        if session is None or session.user_id != user_id or not session.is_active(now):
            return None
        user = tables.users.get(user_id)
        if user is None or not user.is_active:
            return None
        return Actor(user_id=user.id, name=user.name, is_admin=user.is_admin, session_id=session.id)
