"""Users of the CRM: clerks and admins who sign in and manage customers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.errors import Conflict
from domain.values import Email, PersonName


@dataclass(frozen=True, slots=True)
class UserRef:
    """How a customer record points at a user: the id, and the name to show."""

    id: UUID
    name: str


@dataclass(slots=True)
class User:
    id: UUID
    email: Email
    name: PersonName
    is_admin: bool
    created_at: datetime
    updated_at: datetime
    # None: the user signs in only through a configured OpenID Connect provider.
    password_hash: str | None = None
    version: int = 1
    # Deleted users stay as rows so that customers keep pointing at them; they can do nothing.
    deleted_at: datetime | None = field(default=None)

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def ref(self) -> UserRef:
        return UserRef(self.id, self.name)

    def touch(self, at: datetime) -> None:
        self.updated_at = at
        self.version += 1

    def delete(self, at: datetime) -> None:
        self.deleted_at = at
        self.touch(at)


def ensure_an_admin_remains(active_admins_after_change: int) -> None:
    """The service always keeps at least one active admin, so someone can always manage users."""
    if active_admins_after_change < 1:
        raise Conflict("The service must keep at least one active admin.")
