"""What every JSON shape of the HTTP API shares: the strict base of request bodies, documented text fields, the
reference to who did something, and RFC 9457 problems. Unknown fields are refused everywhere."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, Struct

from domain.users import UserRef

# The decoder only bounds the size, before any of our code runs; the domain checks the real rules
# (trimming, control characters, formats) and reports them field by field. The OpenAPI document states
# those rules as precisely as JSON Schema can (field_rules.py).


def documented(decode_limit: int, rule: dict[str, object], description: str, *examples: str) -> Meta:
    """A decoder bound plus what the OpenAPI document says about the field (see field_rules)."""
    return Meta(
        max_length=decode_limit, description=description, examples=list(examples), extra_json_schema={"extra": rule}
    )


class Strict(Struct, forbid_unknown_fields=True, omit_defaults=False):
    """Base of request bodies: an unknown field is an error, never silently ignored."""


class UserRefOut(Struct):
    id: UUID
    name: str

    @classmethod
    def of(cls, ref: UserRef) -> UserRefOut:
        # str(): an in-memory reference may carry the PersonName itself, which JSON encoders do not know.
        return cls(ref.id, str(ref.name))


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
    # On a 429 quota-exceeded (draft-ietf-httpapi-ratelimit-headers-11): the policies the request broke.
    violated_policies: (
        Annotated[list[str], Meta(description='"burst", "daily" or "concurrency".')] | msgspec.UnsetType
    ) = msgspec.field(default=UNSET, name="violated-policies")
