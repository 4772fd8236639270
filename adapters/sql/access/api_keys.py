"""API keys in PostgreSQL, in the unit of work's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.access.actor_tables import api_keys
from adapters.sql.access.user_tables import users
from application.ports.api_keys import ApiKeyRepository
from domain.api_keys import ApiKey, ApiKeyScope
from domain.users import UserRef

_creator = users.alias("creator")
_LIVE_KEYS = (
    select(api_keys, _creator.c.name.label("creator_name"))
    .select_from(api_keys.join(_creator, _creator.c.id == api_keys.c.created_by))
    .where(api_keys.c.deleted_at.is_(None))
)


def scopes_of(values: list[str]) -> frozenset[ApiKeyScope]:
    return frozenset(ApiKeyScope(value) for value in values)


def _api_key_of(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        scopes=scopes_of(row.scopes),
        prefix=row.prefix,
        key_hash=row.key_hash,
        created_at=row.created_at,
        created_by=UserRef(row.created_by, row.creator_name),
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


class SqlApiKeyRepository(ApiKeyRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, key: ApiKey) -> None:
        await self._connection.execute(
            insert(api_keys).values(
                id=key.id,
                name=key.name,
                scopes=sorted(scope.value for scope in key.scopes),
                prefix=key.prefix,
                key_hash=key.key_hash,
                created_at=key.created_at,
                created_by=key.created_by.id,
                expires_at=key.expires_at,
                last_used_at=key.last_used_at,
                deleted_at=key.deleted_at,
            )
        )

    async def get(self, key_id: UUID) -> ApiKey | None:
        row = (await self._connection.execute(_LIVE_KEYS.where(api_keys.c.id == key_id))).one_or_none()
        return None if row is None else _api_key_of(row)

    async def list(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[ApiKey]:
        statement = _LIVE_KEYS
        if after is not None:
            statement = statement.where(tuple_(api_keys.c.created_at, api_keys.c.id) > tuple_(*after))
        statement = statement.order_by(api_keys.c.created_at, api_keys.c.id).limit(limit)
        return [_api_key_of(row) for row in await self._connection.execute(statement)]

    async def delete(self, key_id: UUID, at: datetime) -> bool:
        result = await self._connection.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.deleted_at.is_(None))
            .values(deleted_at=at)
            .returning(api_keys.c.id)
        )
        return result.one_or_none() is not None
