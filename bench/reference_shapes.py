"""What both references share, written once for the benchmark and sharing nothing with the service: the
the JSON the service answers, the same access-token checks (pyjwt).

Used by ``bench/reference_app.py`` (bare ASGI) and ``bench/litestar_app.py`` (plain Litestar).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import jwt
import msgspec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

PREFIX = "/api/v1/customers"
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "sid", "jti"]
DEFAULT_SORT = "-created_at"
# The same security headers the service adds to every response (adapters/http/edge/response_headers.py).
SECURITY_HEADERS: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-site"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    (b"cache-control", b"no-store"),
]


class UserRefOut(msgspec.Struct):
    id: UUID
    name: str


class CustomerOut(msgspec.Struct):
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


class CustomerPage(msgspec.Struct):
    items: list[CustomerOut]
    next_cursor: str | None


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    surname: str
    email: str | None = None
    phone: str | None = None
    notes: str | None = None


class CustomerPatch(msgspec.Struct, forbid_unknown_fields=True):
    notes: str | msgspec.UnsetType | None = msgspec.UNSET
    phone: str | msgspec.UnsetType | None = msgspec.UNSET


class HttpError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def search_key(*parts: str | None) -> str:
    """domain.values.search_key, repeated here so that the reference stands alone."""
    joined = " ".join(part for part in parts if part)
    decomposed = unicodedata.normalize("NFKD", joined)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def contains_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_cursor(*position: str) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        sort, value, customer_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if sort != DEFAULT_SORT:
            raise ValueError(sort)
        return datetime.fromisoformat(value), str(customer_id)
    except (ValueError, TypeError) as error:
        raise HttpError(400, "The cursor is not valid.") from error


def customer_out(row: asyncpg.Record) -> CustomerOut:
    return CustomerOut(
        id=row["id"],
        name=row["name"],
        surname=row["surname"],
        email=row["email"],
        phone=row["phone"],
        notes=row["notes"],
        photo_url=None,
        photo_thumbnail_url=None,
        created_at=row["created_at"],
        created_by=UserRefOut(row["created_by"], row["created_by_name"]),
        updated_at=row["updated_at"],
        updated_by=UserRefOut(row["updated_by"], row["updated_by_name"]),
        version=row["version"],
    )


def etag(row: asyncpg.Record) -> bytes:
    return f'"{row["version"]}.{int(row["created_at"].timestamp() * 1_000_000):x}"'.encode()


class TokenVerifier:
    def __init__(self, keys: dict[str, bytes], issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    def user_id(self, authorization: bytes | None) -> UUID:
        """The user the bearer token names; the same checks as the service's JwtAccessTokens.verify."""
        if not authorization:
            raise HttpError(401, "Sign in.")
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer":
            raise HttpError(401, "Send a bearer token.")
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(header.get("kid", ""))
            if key is None or header.get("typ") != "at+jwt" or "crit" in header:
                raise HttpError(401, "The access token is not valid.")
            payload = jwt.decode(
                token,
                key,
                algorithms=["HS256"],
                audience=self._audience,
                issuer=self._issuer,
                leeway=5,
                options={"require": REQUIRED_CLAIMS},
            )
            return UUID(payload["sub"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise HttpError(401, "The access token is not valid or has expired.") from error
