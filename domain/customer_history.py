"""A customer's change history: who created, changed, re-photographed or deleted it, when, and what changed.

Each change is recorded in the same transaction as the change itself, so the history is never ahead
of or behind the customer. History outlives the customer: after a deletion (to the trash) or a
purge, the history of the id (ending with the ``deleted`` entry) can still be read, and a customer
created again under the same id continues the same history with a new ``created`` entry. An erasure
is the exception: it removes every entry of the id, since they hold personal values, and leaves a
single ``erased`` entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from domain.customers import EDITABLE_FIELDS, Customer, Photo
from domain.users import UserRef
from domain.values import CustomerId

ChangeKind = Literal["created", "updated", "photo_changed", "deleted", "restored", "erased"]
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)

# A photo change is shown as the field "photo" going between null and this marker: whether there is a
# photo, never where it is stored (storage keys are not for clients, and the objects may be gone).
PHOTO_FIELD = "photo"
PHOTO_PRESENT = "present"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field's value before and after a change; null for a value that was or became absent."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class CustomerChange:
    customer_id: CustomerId
    kind: ChangeKind
    # Who made the change; resolved to the user's current name when read, as for customers.
    by: UserRef
    at: datetime
    # ``updated``: each changed field; ``created``: each field given a value; ``photo_changed``: the
    # photo; ``deleted`` (moved to the trash), ``restored`` (back from it) and ``erased``: nothing.
    changes: tuple[FieldChange, ...] = ()
    # The change's place in the history, given when it is recorded (None before): among changes with
    # the same time, a higher id was recorded later.
    id: int | None = None

    @classmethod
    def created(cls, customer: Customer) -> CustomerChange:
        changes = tuple(
            FieldChange(name, None, str(value))
            for name in EDITABLE_FIELDS
            if (value := getattr(customer, name)) is not None
        )
        return cls(customer.id, "created", customer.created_by, customer.created_at, changes)

    @classmethod
    def updated(cls, customer: Customer, changes: Mapping[str, tuple[Any, Any]]) -> CustomerChange:
        """``changes`` as ``Customer.change_details`` returns them, after it was applied."""
        fields = tuple(FieldChange(name, _text(old), _text(new)) for name, (old, new) in changes.items())
        return cls(customer.id, "updated", customer.updated_by, customer.updated_at, fields)

    @classmethod
    def photo_changed(cls, customer: Customer, previous: Photo | None) -> CustomerChange:
        """After ``Customer.replace_photo``, which returned ``previous``."""
        change = FieldChange(PHOTO_FIELD, _presence(previous), _presence(customer.photo))
        return cls(customer.id, "photo_changed", customer.updated_by, customer.updated_at, (change,))

    @classmethod
    def deleted(cls, customer_id: CustomerId, by: UserRef, at: datetime) -> CustomerChange:
        return cls(customer_id, "deleted", by, at)

    @classmethod
    def restored(cls, customer: Customer) -> CustomerChange:
        """After ``Customer.restore``."""
        return cls(customer.id, "restored", customer.updated_by, customer.updated_at)

    @classmethod
    def erased(cls, customer_id: CustomerId, by: UserRef, at: datetime) -> CustomerChange:
        """What is left of a customer's history after an erasure: that it existed, who erased it and when."""
        return cls(customer_id, "erased", by, at)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _presence(photo: Photo | None) -> str | None:
    return None if photo is None else PHOTO_PRESENT
