"""The JSON shapes of the API key endpoints (contract version 1.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from adapters.http.common.schemas import Strict, UserRefOut, documented
from adapters.http.openapi import field_rules as rules
from application.access.api_keys import IssuedApiKey
from domain.api_keys import ApiKey, ApiKeyScope

ScopeName = Annotated[str, Meta(description="customers:read or customers:write.")]
ScopeList = Annotated[
    list[ScopeName],
    Meta(
        min_length=1,
        max_length=len(ApiKeyScope),
        description="What the key may do.",
        # Litestar drops the items' own constraints from the document; state them here.
        extra_json_schema={"extra": {"items": {"type": "string", "enum": [scope.value for scope in ApiKeyScope]}}},
    ),
]
KeyName = Annotated[
    str,
    documented(
        1024,
        rules.PERSON_NAME,
        "1-100 characters once trimmed, no control characters; shown as created_by/updated_by of what the key writes.",
        "Web shop sync",
    ),
]
# A time zone is required: "2027-01-01T00:00:00" alone would mean a different instant on every machine.
Expiry = Annotated[datetime, Meta(tz=True, description="When the key stops working (RFC 3339, with a time zone).")]


class ApiKeyCreate(Strict):
    name: KeyName
    scopes: ScopeList
    expires_at: Expiry | None = None


class ApiKeyOut(Struct):
    id: UUID
    name: str
    scopes: list[str]
    prefix: str
    created_at: datetime
    created_by: UserRefOut
    expires_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            key.id,
            key.name,
            sorted(scope.value for scope in key.scopes),
            key.prefix,
            key.created_at,
            UserRefOut.of(key.created_by),
            key.expires_at,
            key.last_used_at,
        )


class ApiKeyWithSecret(ApiKeyOut):
    """Only the answer to creation carries the key itself."""

    key: str = ""

    @classmethod
    def issued(cls, issued: IssuedApiKey) -> ApiKeyWithSecret:
        out = ApiKeyOut.of(issued.api_key)
        return cls(**{name: getattr(out, name) for name in out.__struct_fields__}, key=issued.key)


class ApiKeyPage(Struct):
    items: list[ApiKeyOut]
    next_cursor: str | None
