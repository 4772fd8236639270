"""The JSON shapes of the HTTP API (contract version 1). Unknown fields are refused everywhere."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from domain.customer_history import ChangeKind, CustomerChange
from domain.customers import Customer
from domain.users import User, UserRef

# Bounds checked while decoding, before any of our code runs. The domain checks the real rules
# (trimming, control characters, formats) and reports them field by field.
ShortText = Annotated[str, Meta(max_length=1024)]
LongText = Annotated[str, Meta(max_length=20_000)]
PasswordText = Annotated[str, Meta(max_length=4096)]


def _plain(value: str | None) -> str | None:
    return None if value is None else str(value)


class Strict(Struct, forbid_unknown_fields=True, omit_defaults=False):
    """Base of request bodies: an unknown field is an error, never silently ignored."""


class UserRefOut(Struct):
    id: UUID
    name: str

    @classmethod
    def of(cls, ref: UserRef) -> UserRefOut:
        return cls(ref.id, ref.name)


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


class TrashedCustomerOut(CustomerOut):
    """A customer in the trash, as it will come back, with when and by whom it was deleted."""

    deleted_at: datetime
    deleted_by: UserRefOut


class TrashPage(Struct):
    items: list[TrashedCustomerOut]
    next_cursor: str | None


class ImportProblemOut(Struct):
    # The file's row, the header being row 1.
    row: int
    field: str
    message: str


class ImportReportOut(Struct):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    errors: list[ImportProblemOut]


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
    id: ShortText
    name: ShortText
    surname: ShortText
    email: ShortText | None = None
    phone: ShortText | None = None
    notes: LongText | None = None


class CustomerPatch(Strict):
    """A JSON merge patch (RFC 7396): absent fields stay, null clears."""

    id: ShortText | UnsetType = UNSET
    name: ShortText | UnsetType | None = UNSET
    surname: ShortText | UnsetType | None = UNSET
    email: ShortText | UnsetType | None = UNSET
    phone: ShortText | UnsetType | None = UNSET
    notes: LongText | UnsetType | None = UNSET

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
    email: ShortText
    name: ShortText
    password: PasswordText | None = None
    is_admin: bool = False


class UserPatch(Strict):
    email: ShortText | UnsetType = UNSET
    name: ShortText | UnsetType = UNSET
    password: PasswordText | UnsetType = UNSET
    is_admin: bool | UnsetType = UNSET


class PasswordChange(Strict):
    current_password: PasswordText
    new_password: PasswordText


class TokenRequest(Struct):
    """The token endpoint's form (RFC 6749 §4.3, §6; RFC 8693). Extra OAuth parameters such as
    ``scope`` or ``client_id`` are accepted and ignored, as RFC 6749 §3.2 requires."""

    grant_type: str
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    subject_token: str | None = None
    subject_token_type: str | None = None
    scope: str | None = None
    client_id: str | None = None


class RevokeRequest(Struct):
    token: str
    token_type_hint: str | None = None


class TokenResponse(Struct):
    access_token: str
    expires_in: int
    refresh_token: str
    token_type: str = "Bearer"


class OAuthError(Struct):
    error: str
    error_description: str


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


class ProviderOut(Struct):
    name: str
    issuer: str
    client_id: str


class HealthOut(Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)
