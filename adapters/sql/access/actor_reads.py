"""Who is behind an access token or an API key, answered from PostgreSQL on every authenticated request."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.access.actor_tables import api_keys
from adapters.sql.access.api_keys import scopes_of
from adapters.sql.access.user_tables import sign_in_sessions, users
from adapters.sql.availability import unavailable_database_as_503
from application.ports.security import ActorLookup
from domain.sign_in import Actor

# One statement, built once: the session is live and its user (the one the token names) active.
_FIND_ACTOR = (
    select(
        users.c.id,
        users.c.name,
        users.c.is_admin,
        sign_in_sessions.c.id.label("session_id"),
        sign_in_sessions.c.expires_at,
    )
    .select_from(sign_in_sessions.join(users, users.c.id == sign_in_sessions.c.user_id))
    .where(
        sign_in_sessions.c.id == bindparam("session_id"),
        sign_in_sessions.c.user_id == bindparam("user_id"),
        sign_in_sessions.c.revoked_at.is_(None),
        sign_in_sessions.c.expires_at > bindparam("now"),
        users.c.deleted_at.is_(None),
    )
)

_FIND_API_KEY = select(api_keys.c.id, api_keys.c.name, api_keys.c.scopes, api_keys.c.expires_at).where(
    api_keys.c.key_hash == bindparam("key_hash"),
    api_keys.c.deleted_at.is_(None),
    or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > bindparam("now")),
)
# Forward only: two replicas noting uses out of order never move it back.
_RECORD_API_KEY_USE = (
    update(api_keys)
    .where(
        api_keys.c.id == bindparam("key_id"),
        or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < bindparam("at")),
    )
    .values(last_used_at=bindparam("at"))
)
_NEVER = datetime.max.replace(tzinfo=UTC)


class SqlActorLookup(ActorLookup):
    def __init__(self, engine: AsyncEngine) -> None:
        # A single read needs no transaction: autocommit saves the BEGIN and ROLLBACK round trips
        # that would otherwise double the cost of the hottest query of the service.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    def forget_user(self, user_id: UUID) -> None:
        """Nothing to forget: every answer is read afresh."""

    def forget_session(self, session_id: UUID) -> None:
        """Nothing to forget: every answer is read afresh."""

    def forget_api_key(self, key_id: UUID) -> None:
        """Nothing to forget: every answer is read afresh."""

    async def find(self, session_id: UUID, user_id: UUID, now: datetime) -> Actor | None:
        found = await self.find_with_expiry(session_id, user_id, now)
        return None if found is None else found[0]

    async def find_with_expiry(self, session_id: UUID, user_id: UUID, now: datetime) -> tuple[Actor, datetime] | None:
        """The actor and the end of its session: how long a cache may keep the answer
        (adapters.sql.access.actor_cache)."""
        with unavailable_database_as_503():
            async with self._engine.connect() as connection:
                result = await connection.execute(
                    _FIND_ACTOR, {"session_id": session_id, "user_id": user_id, "now": now}
                )
                row = result.one_or_none()
        if row is None:
            return None
        return Actor(user_id=row.id, name=row.name, is_admin=row.is_admin, session_id=row.session_id), row.expires_at

    async def find_api_key(self, key_hash: str, now: datetime) -> Actor | None:
        found = await self.find_api_key_with_expiry(key_hash, now)
        return None if found is None else found[0]

    async def find_api_key_with_expiry(self, key_hash: str, now: datetime) -> tuple[Actor, datetime] | None:
        with unavailable_database_as_503():
            async with self._engine.connect() as connection:
                result = await connection.execute(_FIND_API_KEY, {"key_hash": key_hash, "now": now})
                row = result.one_or_none()
        if row is None:
            return None
        actor = Actor.of_api_key(row.id, row.name, scopes_of(row.scopes))
        return actor, row.expires_at or _NEVER

    async def record_api_key_use(self, key_id: UUID, at: datetime) -> None:
        with unavailable_database_as_503():
            async with self._engine.connect() as connection:
                await connection.execute(_RECORD_API_KEY_USE, {"key_id": key_id, "at": at})
