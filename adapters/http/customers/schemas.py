"""The JSON shapes of customers and their history (contract version 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import UNSET, Struct, UnsetType

from adapters.http.common.schemas import Strict, UserRefOut, documented
from adapters.http.openapi import field_rules as rules
from domain.customer_history import ChangeKind, CustomerChange
from domain.customers import Customer

CustomerIdText = Annotated[
    str,
    documented(
        1024, rules.CUSTOMER_ID, "The shop's own id: 1-64 of A-Z a-z 0-9 . _ -, first a letter or digit.", "C-0001"
    ),
]
NameText = Annotated[
    str, documented(1024, rules.PERSON_NAME, "1-100 characters once trimmed, no control characters.", "Ada")
]
SurnameText = Annotated[
    str,
    documented(1024, rules.PERSON_NAME, "1-100 characters once trimmed, no control characters.", "Lovelace"),
]
EmailText = Annotated[
    str, documented(1024, rules.EMAIL, "An e-mail address, at most 254 characters.", "ada.lovelace@example.com")
]
PhoneText = Annotated[
    str,
    documented(1024, rules.PHONE, "Digits, spaces and + ( ) . - /, optionally an extension.", "+44 20 7946 0958"),
]
NotesText = Annotated[
    str,
    documented(
        20_000,
        rules.NOTES,
        "Free text, at most 10,000 characters; line breaks allowed.",
        "Prefers e-mail. Met at the Leeds trade fair.",
    ),
]


class CustomerOut(Struct):
    id: str
    name: str
    surname: str
    email: str | None
    phone: str | None
    notes: str | None
    photo_url: str | None
    photo_thumbnail_url: str | None
    created_at: datetime
    created_by: UserRefOut
    updated_at: datetime
    updated_by: UserRefOut
    version: int

    @classmethod
    def of(cls, customer: Customer, photo_url: str | None = None, thumbnail_url: str | None = None) -> CustomerOut:
        # Value objects are str subclasses; msgspec encodes plain str natively and subclasses only
        # through a slow fallback hook, so hand it plain strings. Positional and without helper calls: this
        # runs for every item of every page, and keywords double a Struct's construction time.
        email, phone, notes, creator, updater = (
            customer.email,
            customer.phone,
            customer.notes,
            customer.created_by,
            customer.updated_by,
        )
        return cls(
            str(customer.id),
            str(customer.name),
            str(customer.surname),
            None if email is None else str(email),
            None if phone is None else str(phone),
            None if notes is None else str(notes),
            photo_url,
            thumbnail_url,
            customer.created_at,
            UserRefOut(creator.id, str(creator.name)),
            customer.updated_at,
            UserRefOut(updater.id, str(updater.name)),
            customer.version,
        )


class CustomerPage(Struct):
    items: list[CustomerOut]
    next_cursor: str | None


class FieldChangeOut(Struct):
    """A field's value before and after the change (null: absent). The field "photo" goes between null and
    "present"."""

    field: str
    old: str | None
    new: str | None


class CustomerChangeOut(Struct):
    kind: ChangeKind
    at: datetime
    actor: UserRefOut
    # For updates, each changed field; for creation, each field given a value; for photo changes, "photo".
    changes: list[FieldChangeOut]

    @classmethod
    def of(cls, change: CustomerChange) -> CustomerChangeOut:
        return cls(
            kind=change.kind,
            at=change.at,
            actor=UserRefOut.of(change.by),
            changes=[FieldChangeOut(field.field, field.old, field.new) for field in change.changes],
        )


class CustomerHistoryPage(Struct):
    items: list[CustomerChangeOut]
    next_cursor: str | None


class CustomerCreate(Strict):
    id: CustomerIdText
    name: NameText
    surname: SurnameText
    email: EmailText | None = None
    phone: PhoneText | None = None
    notes: NotesText | None = None


class CustomerPatch(Strict):
    """A JSON merge patch (RFC 7396): absent fields stay, null clears the optional ones."""

    # The id never changes; it may be sent, and must then equal the current one.
    id: CustomerIdText | UnsetType = UNSET
    # A customer always has a name and surname: they can be replaced, not cleared.
    name: NameText | UnsetType = UNSET
    surname: SurnameText | UnsetType = UNSET
    email: EmailText | UnsetType | None = UNSET
    phone: PhoneText | UnsetType | None = UNSET
    notes: NotesText | UnsetType | None = UNSET

    def present(self) -> dict[str, str | None]:
        return {field: value for field in self.__struct_fields__ if (value := getattr(self, field)) is not UNSET}
