"""Security ports: who is behind a request, password hashes and our own access tokens."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.sign_in import Actor


class ActorLookup(ABC):
    """Finds who is behind an access token or an API key on every request: kept apart from the unit
    of work so that it can be answered from a cache.

    The use cases that change who may do what call ``forget_user`` or ``forget_session`` right after their
    commit, so that the process that made a change reads its own write on the very next request; other
    processes learn of it in their own way (``adapters.sql.access.actor_cache``)."""

    @abstractmethod
    async def find(self, session_id: UUID, user_id: UUID, now: datetime) -> Actor | None:
        """The actor if the session is active and its user active, else None."""

    @abstractmethod
    async def find_api_key(self, key_hash: str, now: datetime) -> Actor | None:
        """The API key's actor if a key with this hash exists, is not deleted and has not expired, else None."""

    @abstractmethod
    async def record_api_key_use(self, key_id: UUID, at: datetime) -> None:
        """Move the key's ``last_used_at`` forward to ``at`` (never back)."""

    @abstractmethod
    def forget_user(self, user_id: UUID) -> None:
        """Called right after a commit that changed the user's admin status, name, password, e-mail or
        existence: answers kept for any of their sessions must not be given again."""

    @abstractmethod
    def forget_session(self, session_id: UUID) -> None:
        """Called right after a commit that ended the session: an answer kept for it must not be given again."""

    @abstractmethod
    def forget_api_key(self, key_id: UUID) -> None:
        """Called right after a commit that deleted the key: an answer kept for it must not be given again."""


class PasswordHasher(ABC):
    @abstractmethod
    async def hash(self, password: str) -> str: ...

    @abstractmethod
    async def verify(self, password_hash: str, password: str) -> bool: ...

    @abstractmethod
    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with parameters older than the current ones."""

    @abstractmethod
    async def verify_nothing(self, password: str) -> None:
        """Spend the time of a real verification, so that unknown users cannot be told apart."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: UUID
    session_id: UUID
    # When a verified token stops being valid (None before it is issued); not part of what a token claims to be.
    expires_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class AccessTokens(ABC):
    @abstractmethod
    def issue(self, claims: AccessClaims, now: datetime) -> IssuedToken: ...

    @abstractmethod
    def verify(self, token: str) -> AccessClaims:
        """Raise ``NotAuthenticated`` unless the token is a valid, unexpired access token of ours."""
