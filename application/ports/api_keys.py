"""The API keys admins manage, in the unit of work."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from domain.api_keys import ApiKey


class ApiKeyRepository(ABC):
    """API keys that are not deleted; deleted ones stay as rows that only the names of their writes read."""

    @abstractmethod
    async def add(self, key: ApiKey) -> None: ...

    @abstractmethod
    async def get(self, key_id: UUID) -> ApiKey | None: ...

    @abstractmethod
    async def list(self, limit: int, after: tuple[datetime, UUID] | None = None) -> list[ApiKey]:
        """Oldest first, by creation time then id; at most ``limit``, strictly after ``after``."""

    @abstractmethod
    async def delete(self, key_id: UUID, at: datetime) -> bool:
        """Mark the key deleted at ``at``; False when there is no such key (or it is deleted already)."""
