"""Customers of the shop, the heart of the CRM."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.users import UserRef
from domain.values import CustomerId, Email, Notes, PersonName, Phone, search_key

# The fields a clerk edits; the rest (id, audit fields, photo) change only through their own rules.
EDITABLE_FIELDS = ("name", "surname", "email", "phone", "notes")


@dataclass(frozen=True, slots=True)
class Photo:
    """Where a customer's photo and its thumbnail are stored; the keys reveal nothing about the customer."""

    key: str
    thumbnail_key: str
    content_type: str


@dataclass(frozen=True, slots=True)
class CustomerDetails:
    """The editable part of a customer, validated."""

    name: PersonName
    surname: PersonName
    email: Email | None = None
    phone: Phone | None = None
    notes: Notes | None = None


@dataclass(slots=True)
class Customer:
    id: CustomerId
    name: PersonName
    surname: PersonName
    email: Email | None
    phone: Phone | None
    notes: Notes | None
    created_at: datetime
    created_by: UserRef
    updated_at: datetime
    updated_by: UserRef
    version: int = 1
    photo: Photo | None = field(default=None)

    @classmethod
    def register(cls, customer_id: CustomerId, details: CustomerDetails, by: UserRef, at: datetime) -> Customer:
        return cls(
            id=customer_id,
            name=details.name,
            surname=details.surname,
            email=details.email,
            phone=details.phone,
            notes=details.notes,
            created_at=at,
            created_by=by,
            updated_at=at,
            updated_by=by,
        )

    @property
    def details(self) -> CustomerDetails:
        return CustomerDetails(self.name, self.surname, self.email, self.phone, self.notes)

    @property
    def revision(self) -> str:
        """Identifies this exact state of this customer (the HTTP ETag).

        The creation time is part of it, so that a customer deleted and created again under the
        same id never repeats an old revision.
        """
        return f"{self.version}.{int(self.created_at.timestamp() * 1_000_000):x}"

    @property
    def search_text(self) -> str:
        return search_key(self.id, self.name, self.surname, self.email)

    def matches_revision(self, expected: list[str] | None) -> bool:
        return expected is None or "*" in expected or self.revision in expected

    def change_details(self, details: CustomerDetails, by: UserRef, at: datetime) -> dict[str, tuple[Any, Any]]:
        """Apply new details; return each changed field with its old and new value."""
        changes: dict[str, tuple[Any, Any]] = {}
        for name in EDITABLE_FIELDS:
            old, new = getattr(self, name), getattr(details, name)
            if old != new:
                changes[name] = (old, new)
                setattr(self, name, new)
        if changes:
            self._touch(by, at)
        return changes

    def replace_photo(self, photo: Photo | None, by: UserRef, at: datetime) -> Photo | None:
        """Set or clear the photo; return the previous one, whose stored objects are now garbage."""
        previous, self.photo = self.photo, photo
        self._touch(by, at)
        return previous

    def restore(self, by: UserRef, at: datetime) -> None:
        """Back from the trash: as it was, with a new version, so that an old ETag no longer matches."""
        self._touch(by, at)

    def _touch(self, by: UserRef, at: datetime) -> None:
        self.updated_by = by
        self.updated_at = at
        self.version += 1


@dataclass(frozen=True, slots=True)
class TrashedCustomer:
    """A customer in the trash: hidden from reads, lists and search, its id still taken, until it is
    restored, erased or purged after the trash period."""

    customer: Customer
    deleted_at: datetime
    deleted_by: UserRef


def sort_key(customer: Customer, field: str) -> Any:
    """The value that orders customers by ``field``: names ignore case and accents."""
    if field in ("name", "surname"):
        return search_key(getattr(customer, field))
    return getattr(customer, field)
