"""API keys in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from uuid import UUID

from adapters.memory.transaction import Transaction
from application.ports.api_keys import ApiKeyRepository
from domain.api_keys import ApiKey


class InMemoryApiKeyRepository(ApiKeyRepository):
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def add(self, key: ApiKey) -> None:
        tables = await self._transaction.writable()
        if key.id in tables.api_keys or any(other.key_hash == key.key_hash for other in tables.api_keys.values()):
            raise ValueError(f"API key {key.id} exists already")
        tables.api_keys[key.id] = replace(key)

    async def get(self, key_id: UUID) -> ApiKey | None:
        key = self._transaction.readable().api_keys.get(key_id)
        return None if key is None or key.deleted_at is not None else self._resolved(key)

    async def list(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[ApiKey]:
        keys = sorted(
            (key for key in self._transaction.readable().api_keys.values() if key.deleted_at is None),
            key=lambda key: (key.created_at, key.id),
        )
        return [self._resolved(key) for key in keys if after is None or (key.created_at, key.id) > after][:limit]

    async def delete(self, key_id: UUID, at: datetime) -> bool:
        tables = await self._transaction.writable()
        key = tables.api_keys.get(key_id)
        if key is None or key.deleted_at is not None:
            return False
        tables.api_keys[key_id] = replace(key, deleted_at=at)
        return True

    def _resolved(self, key: ApiKey) -> ApiKey:
        """A copy naming its creator as they are called now, as the SQL join gives."""
        return replace(key, created_by=self._transaction.readable().actor_ref(key.created_by))
