"""The reference: the least a Python server can do to answer the same requests over the same database.

A bare ASGI callable on an asyncpg pool, encoding with msgspec, written for the benchmark only. Per
request it does what the service must do at the least, and nothing else:

- verifies the same bearer access token (HS256 JWT: key by ``kid``, ``typ``, issuer, audience, the
  required claims and their times) with pyjwt, as ``adapters/security/access_tokens.py`` does; it does
  NOT look the sign-in session up in the database (the service does, for revocation: that query is
  part of the overhead measured against this reference);
- runs one SQL statement per endpoint, the same the service's repository runs (the customer joined to
  the names of its creator and last editor), and answers the same JSON body and ETag.

It supports only what the benchmark sends: ``GET /api/v1/customers/{id}``, ``GET /api/v1/customers``
with ``limit``, ``cursor`` and ``q`` in the default order (``-created_at``), ``POST /api/v1/customers``
and ``PATCH /api/v1/customers/{id}`` of ``notes`` and ``phone`` (fields that no sort key or search text
depends on). Serve it with ``granian --interface asgi bench.reference_app:app``; configuration comes
from the environment: ``REF_DATABASE_URL``, ``REF_SECRET_KEY``, ``REF_KEY_ID``, ``REF_ISSUER``,
``REF_AUDIENCE`` and ``REF_POOL_SIZE``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import unicodedata
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode
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
# The same security headers the service adds to every response (adapters/http/response_headers.py).
SECURITY_HEADERS: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-site"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    (b"cache-control", b"no-store"),
]

_COLUMNS = """c.id, c.name, c.surname, c.email, c.phone, c.notes, c.created_at, c.created_by,
    cr.name AS created_by_name, c.updated_at, c.updated_by, up.name AS updated_by_name, c.version"""
_JOINS = "JOIN users cr ON cr.id = c.created_by JOIN users up ON up.id = c.updated_by"
GET_ONE = f"SELECT {_COLUMNS} FROM customers c {_JOINS} WHERE c.id = $1"
_ORDER = "ORDER BY c.created_at DESC, c.id DESC LIMIT $1"
_FROM = f"SELECT {_COLUMNS} FROM customers c {_JOINS}"
# $1 the limit; $2, $3 the position after which the page starts; the search pattern last.
LIST_FIRST = f"{_FROM} {_ORDER}"
LIST_AFTER = f"{_FROM} WHERE (c.created_at, c.id) < ($2, $3) {_ORDER}"
SEARCH_FIRST = f"{_FROM} WHERE c.search_text LIKE $2 ESCAPE '\\' {_ORDER}"
SEARCH_AFTER = f"{_FROM} WHERE c.search_text LIKE $4 ESCAPE '\\' AND (c.created_at, c.id) < ($2, $3) {_ORDER}"
INSERT = f"""WITH c AS (
    INSERT INTO customers (id, name, surname, email, phone, notes, name_key, surname_key, search_text,
        created_at, created_by, updated_at, updated_by, version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $11, 1)
    RETURNING *)
SELECT {_COLUMNS} FROM c {_JOINS}"""
UPDATE = f"""WITH c AS (
    UPDATE customers SET
        notes = CASE WHEN $2 THEN $3 ELSE notes END,
        phone = CASE WHEN $4 THEN $5 ELSE phone END,
        updated_at = $6, updated_by = $7, version = version + 1
    WHERE id = $1
    RETURNING *)
SELECT {_COLUMNS} FROM c {_JOINS}"""


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


class ReferenceApp:
    def __init__(self) -> None:
        self._pool: asyncpg.Pool | None = None
        key_id = os.environ.get("REF_KEY_ID", "k1")
        secret = os.environ.get("REF_SECRET_KEY", "").encode()
        self._tokens = TokenVerifier(
            {key_id: secret}, os.environ.get("REF_ISSUER", "crm"), os.environ.get("REF_AUDIENCE", "crm-api")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            status, body, headers = await self._handle(scope, receive)
        except HttpError as error:
            status, body, headers = error.status, msgspec.json.encode({"detail": error.detail}), []
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
        await send({"type": "http.response.start", "status": status, "headers": headers + SECURITY_HEADERS})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                size = int(os.environ.get("REF_POOL_SIZE", "10"))
                self._pool = await asyncpg.create_pool(os.environ["REF_DATABASE_URL"], min_size=size, max_size=size)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._pool is not None:
                    await self._pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, bytes, Headers]:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/health":
            return 200, b'{"status":"ok"}', []
        if not path.startswith(PREFIX):
            raise HttpError(404, "Not found.")
        authorization = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        user_id = self._tokens.user_id(authorization)
        assert self._pool is not None
        rest = path[len(PREFIX) :]
        if rest in ("", "/"):
            if method == "GET":
                return await self._list(scope)
            if method == "POST":
                return await self._create(user_id, await _body(receive))
        elif rest.startswith("/") and ID_PATTERN.fullmatch(customer_id := rest[1:]):
            if method == "GET":
                return await self._get(customer_id)
            if method == "PATCH":
                return await self._update(user_id, customer_id, await _body(receive))
        raise HttpError(404, "Not found.")

    async def _get(self, customer_id: str) -> tuple[int, bytes, Headers]:
        assert self._pool is not None
        row = await self._pool.fetchrow(GET_ONE, customer_id)
        if row is None:
            raise HttpError(404, "No such customer.")
        return 200, msgspec.json.encode(customer_out(row)), [(b"etag", etag(row))]

    async def _list(self, scope: Scope) -> tuple[int, bytes, Headers]:
        assert self._pool is not None
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        limit = int(query.get("limit", "20"))
        if not 1 <= limit <= 100 or query.get("sort", DEFAULT_SORT) != DEFAULT_SORT:
            raise HttpError(400, "Unsupported page.")
        cursor = query.get("cursor")
        q = query.get("q")
        arguments: list[Any] = [limit + 1]
        if cursor is not None:
            arguments.extend(decode_cursor(cursor))
        if q:
            arguments.append(contains_pattern(search_key(q)))
            statement = SEARCH_AFTER if cursor is not None else SEARCH_FIRST
        else:
            statement = LIST_AFTER if cursor is not None else LIST_FIRST
        rows = await self._pool.fetch(statement, *arguments)
        next_cursor = None
        headers: Headers = []
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor(DEFAULT_SORT, last["created_at"].isoformat(), last["id"])
            link = urlencode([*((k, v) for k, v in query.items() if k != "cursor"), ("cursor", next_cursor)])
            headers.append((b"link", f'<{PREFIX}?{link}>; rel="next"'.encode()))
        page = CustomerPage([customer_out(row) for row in rows], next_cursor)
        return 200, msgspec.json.encode(page), headers

    async def _create(self, user_id: UUID, body: bytes) -> tuple[int, bytes, Headers]:
        assert self._pool is not None
        try:
            new = msgspec.json.decode(body, type=CustomerCreate)
        except msgspec.ValidationError as error:
            raise HttpError(422, str(error)) from error
        name, surname = new.name.strip(), new.surname.strip()
        if not ID_PATTERN.fullmatch(new.id) or not name or not surname:
            raise HttpError(422, "Invalid customer.")
        now = datetime.now(UTC)
        try:
            row = await self._pool.fetchrow(
                INSERT,
                new.id,
                name,
                surname,
                new.email,
                new.phone,
                new.notes,
                search_key(name),
                search_key(surname),
                search_key(new.id, name, surname, new.email),
                now,
                user_id,
            )
        except asyncpg.UniqueViolationError as error:
            raise HttpError(409, "A customer with this id exists.") from error
        assert row is not None
        headers = [(b"location", f"{PREFIX}/{new.id}".encode()), (b"etag", etag(row))]
        return 201, msgspec.json.encode(customer_out(row)), headers

    async def _update(self, user_id: UUID, customer_id: str, body: bytes) -> tuple[int, bytes, Headers]:
        assert self._pool is not None
        try:
            patch = msgspec.json.decode(body, type=CustomerPatch)
        except msgspec.ValidationError as error:
            raise HttpError(422, str(error)) from error
        notes_set, phone_set = patch.notes is not msgspec.UNSET, patch.phone is not msgspec.UNSET
        row = await self._pool.fetchrow(
            UPDATE,
            customer_id,
            notes_set,
            patch.notes if notes_set else None,
            phone_set,
            patch.phone if phone_set else None,
            datetime.now(UTC),
            user_id,
        )
        if row is None:
            raise HttpError(404, "No such customer.")
        return 200, msgspec.json.encode(customer_out(row)), [(b"etag", etag(row))]


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


app = ReferenceApp()
