"""The reference: the least a Python server can do to answer the same requests over the same database.

A bare ASGI callable on an asyncpg pool, encoding with msgspec, written for the benchmark only. Per
request it does what the service must do at the least, and nothing else:

- verifies the same bearer access token (HS256 JWT: key by ``kid``, ``typ``, issuer, audience, the
  required claims and their times) with pyjwt, as ``adapters/security/access_tokens.py`` does; it does
  NOT look the sign-in session up in the database (the service does, for revocation: that query is
  part of the overhead measured against this reference);
- runs one SQL statement per endpoint, the same the service's repository runs (the customer joined to
  the names of its creator and last editor), and answers the same JSON body and ETag;
- writes do the same work as the service's: the customer row and its history row, in one statement
  (the update locks the row and bumps its version). See ``bench/reference_queries.py``.

It supports only what the benchmark sends: ``GET /api/v1/customers/{id}``, ``GET /api/v1/customers``
with ``limit``, ``cursor`` and ``q`` in the default order (``-created_at``), ``POST /api/v1/customers``
and ``PATCH /api/v1/customers/{id}`` of ``notes`` and ``phone`` (fields that no sort key or search text
depends on). Serve it with ``granian --interface asgi bench.reference_app:app``; configuration comes
from the environment: ``REF_DATABASE_URL``, ``REF_SECRET_KEY``, ``REF_KEY_ID``, ``REF_ISSUER``,
``REF_AUDIENCE`` and ``REF_POOL_SIZE``.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl
from uuid import UUID

import asyncpg
import msgspec

from bench.reference_queries import create_customer, get_customer, list_customers, update_customer
from bench.reference_shapes import (
    ID_PATTERN,
    PREFIX,
    SECURITY_HEADERS,
    Headers,
    HttpError,
    Receive,
    Scope,
    Send,
    TokenVerifier,
)


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
        customer, tag = await get_customer(self._pool, customer_id)
        return 200, msgspec.json.encode(customer), [(b"etag", tag)]

    async def _list(self, scope: Scope) -> tuple[int, bytes, Headers]:
        assert self._pool is not None
        page, link = await list_customers(self._pool, dict(parse_qsl(scope["query_string"].decode("latin-1"))))
        return 200, msgspec.json.encode(page), [] if link is None else [(b"link", link)]

    async def _create(self, user_id: UUID, body: bytes) -> tuple[int, bytes, Headers]:
        assert self._pool is not None
        customer, tag = await create_customer(self._pool, user_id, body)
        return 201, msgspec.json.encode(customer), [(b"location", f"{PREFIX}/{customer.id}".encode()), (b"etag", tag)]

    async def _update(self, user_id: UUID, customer_id: str, body: bytes) -> tuple[int, bytes, Headers]:
        assert self._pool is not None
        customer, tag = await update_customer(self._pool, user_id, customer_id, body)
        return 200, msgspec.json.encode(customer), [(b"etag", tag)]


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


app = ReferenceApp()
