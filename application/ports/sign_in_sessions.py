"""Sign-in sessions and their refresh tokens, in the unit of work."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from domain.sign_in import RefreshToken, SignInSession


class SignInSessionRepository(ABC):
    @abstractmethod
    async def add(self, session: SignInSession) -> None: ...

    @abstractmethod
    async def get(self, session_id: UUID) -> SignInSession | None: ...

    @abstractmethod
    async def add_refresh_token(self, token: RefreshToken) -> None: ...

    @abstractmethod
    async def find_refresh_token(self, token_hash: str) -> RefreshToken | None:
        """Find and lock the token, so that two refreshes with it cannot both succeed."""

    @abstractmethod
    async def mark_rotated(self, token_hash: str, at: datetime) -> None: ...

    @abstractmethod
    async def revoke(self, session_id: UUID, at: datetime) -> None: ...

    @abstractmethod
    async def revoke_all_of_user(self, user_id: UUID, at: datetime, *, keep: UUID | None = None) -> None:
        """End every active session of the user, except ``keep``."""
