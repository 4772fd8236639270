"""The JSON shapes of the HTTP API (contract version 1). Unknown fields are refused everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from adapters.http.openapi import field_rules as rules
from domain.customer_history import ChangeKind, CustomerChange
from domain.customers import Customer
from domain.users import User, UserRef

# The decoder only bounds the size, before any of our code runs; the domain checks the real rules
# (trimming, control characters, formats) and reports them field by field. The OpenAPI document states
# those rules as precisely as JSON Schema can (field_rules.py).


def documented(decode_limit: int, rule: dict[str, object], description: str, *examples: str) -> Meta:
    """A decoder bound plus what the OpenAPI document says about the field (see field_rules)."""
    return Meta(
        max_length=decode_limit, description=description, examples=list(examples), extra_json_schema={"extra": rule}
    )


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
NewPasswordText = Annotated[
    str,
    documented(
        4096,
        rules.PASSWORD,
        "12-1024 characters, and not a commonly used password.",
        "Correct horse battery staple",
    ),
]
UserEmailText = Annotated[
    str, documented(1024, rules.EMAIL, "The sign-in e-mail address, unique among users.", "grace.hopper@example.com")
]
UserNameText = Annotated[
    str, documented(1024, rules.PERSON_NAME, "The name shown in the CRM, 1-100 characters.", "Grace Hopper")
]


def _plain(value: str | None) -> str | None:
    return None if value is None else str(value)


class Strict(Struct, forbid_unknown_fields=True, omit_defaults=False):
    """Base of request bodies: an unknown field is an error, never silently ignored."""


class UserRefOut(Struct):
    id: UUID
    name: str

    @classmethod
    def of(cls, ref: UserRef) -> UserRefOut:
        # str(): an in-memory reference may carry the PersonName itself, which JSON encoders do not know.
        return cls(ref.id, str(ref.name))


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
        # through a slow fallback hook, so hand it plain strings.
        return cls(
            id=str(customer.id),
            name=str(customer.name),
            surname=str(customer.surname),
            email=_plain(customer.email),
            phone=_plain(customer.phone),
            notes=_plain(customer.notes),
            photo_url=photo_url,
            photo_thumbnail_url=thumbnail_url,
            created_at=customer.created_at,
            created_by=UserRefOut.of(customer.created_by),
            updated_at=customer.updated_at,
            updated_by=UserRefOut.of(customer.updated_by),
            version=customer.version,
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


class UserOut(Struct):
    id: UUID
    email: str
    name: str
    is_admin: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            user.id, str(user.email), str(user.name), user.is_admin, user.created_at, user.updated_at, user.version
        )


class UserPage(Struct):
    items: list[UserOut]
    next_cursor: str | None


class UserCreate(Strict):
    """Without a password the user signs in only through an OpenID Connect provider."""

    email: UserEmailText
    name: UserNameText
    password: NewPasswordText | None = None
    is_admin: bool = False


class UserPatch(Strict):
    email: UserEmailText | UnsetType = UNSET
    name: UserNameText | UnsetType = UNSET
    password: NewPasswordText | UnsetType = UNSET
    is_admin: bool | UnsetType = UNSET


class PasswordChange(Strict):
    current_password: Annotated[
        str, Meta(max_length=4096, description="The password you signed in with.", examples=["Tr0ub4dor&3 but longer"])
    ]
    new_password: NewPasswordText


class FieldError(Struct):
    field: str
    message: str


class Problem(Struct, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = None
    errors: list[FieldError] | msgspec.UnsetType = UNSET
