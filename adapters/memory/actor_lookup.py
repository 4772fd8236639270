"""Who is behind an access token, answered from the in-memory store."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from adapters.memory.store import InMemoryStore
from application.ports.security import ActorLookup
from domain.sign_in import Actor


class InMemoryActorLookup(ActorLookup):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def forget_user(self, user_id: UUID) -> None:
        """Nothing to forget: every answer is read afresh."""

    def forget_session(self, session_id: UUID) -> None:
        """Nothing to forget: every answer is read afresh."""

    async def find(self, session_id: UUID, user_id: UUID, now: datetime) -> Actor | None:
        tables = self._store.committed
        session = tables.sign_in_sessions.get(session_id)
        if session is None or session.user_id != user_id or not session.is_active(now):
            return None
        user = tables.users.get(user_id)
        if user is None or not user.is_active:
            return None
        return Actor(user_id=user.id, name=user.name, is_admin=user.is_admin, session_id=session.id)
