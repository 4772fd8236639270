"""Sign-in sessions: one per sign-in, kept alive by rotating refresh tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.api_keys import ApiKeyScope
from domain.users import UserRef


@dataclass(slots=True)
class SignInSession:
    id: UUID
    user_id: UUID
    created_at: datetime
    # Absolute end: refreshing never keeps a session alive past this.
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(slots=True)
class RefreshToken:
    """A refresh token as stored: only its hash, so a database leak reveals no usable token."""

    token_hash: str
    session_id: UUID
    issued_at: datetime
    expires_at: datetime
    # Set when the token was exchanged for a new one. Presenting it again means it was stolen.
    rotated_at: datetime | None = None

    @property
    def was_rotated(self) -> bool:
        return self.rotated_at is not None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is behind a request, as far as authorization needs to know: a signed-in user, or an API key.

    For an API key, ``user_id`` and ``session_id`` are both the key's id (what its writes are stamped
    with, and what its revocation names), and ``api_key_scopes`` says what it may do.
    """

    user_id: UUID
    name: str
    is_admin: bool
    session_id: UUID
    # None for a person, who may do what their role allows.
    api_key_scopes: frozenset[ApiKeyScope] | None = None

    @classmethod
    def of_api_key(cls, key_id: UUID, name: str, scopes: frozenset[ApiKeyScope]) -> Actor:
        return cls(key_id, name, is_admin=False, session_id=key_id, api_key_scopes=scopes)

    @property
    def is_api_key(self) -> bool:
        return self.api_key_scopes is not None

    @property
    def ref(self) -> UserRef:
        return UserRef(self.user_id, self.name)


# Whoever runs the service rather than uses it: the operator at the command line, or the first-admin
# bootstrap at start-up. It holds an admin's rights, so that every use case still checks them; it is no
# user and has no session, and it is only ever passed in by the composition code, never by a request.
SYSTEM_OPERATOR = Actor(user_id=UUID(int=0), name="System operator", is_admin=True, session_id=UUID(int=0))
