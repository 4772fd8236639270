"""The second reference: Litestar written plainly, to show what the framework itself allows.

The same token check, SQL and JSON as the bare reference (``bench/reference_queries.py``), as Litestar
handlers: no dependency injection, no middleware, no logging, the pool in the app's state. The gap
between this and the bare reference is the framework's; the gap between the service and this is ours.
Serve it with ``granian --interface asgi bench.litestar_app:app``; the same ``REF_*`` environment as
the bare reference.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Litestar, Request, Response, get, patch, post
from litestar.datastructures import ResponseHeader

from bench.reference_queries import create_customer, get_customer, list_customers, update_customer
from bench.reference_shapes import PREFIX, SECURITY_HEADERS, CustomerOut, CustomerPage, HttpError, TokenVerifier

AnyRequest = Request[Any, Any, Any]
_TOKENS = TokenVerifier(
    {os.environ.get("REF_KEY_ID", "k1"): os.environ.get("REF_SECRET_KEY", "").encode()},
    os.environ.get("REF_ISSUER", "crm"),
    os.environ.get("REF_AUDIENCE", "crm-api"),
)


def _caller(request: AnyRequest) -> UUID:
    authorization = request.headers.get("authorization")
    return _TOKENS.user_id(authorization.encode("latin-1") if authorization else None)


def _pool(request: AnyRequest) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get(f"{PREFIX}/{{customer_id:str}}")
async def read_customer(request: AnyRequest, customer_id: str) -> Response[CustomerOut]:
    _caller(request)
    customer, tag = await get_customer(_pool(request), customer_id)
    return Response(customer, headers={"etag": tag.decode()})


@get(PREFIX)
async def page_of_customers(request: AnyRequest) -> Response[CustomerPage]:
    _caller(request)
    page, link = await list_customers(_pool(request), dict(request.query_params))
    return Response(page, headers={} if link is None else {"link": link.decode()})


@post(PREFIX)
async def new_customer(request: AnyRequest) -> Response[CustomerOut]:
    user_id = _caller(request)
    customer, tag = await create_customer(_pool(request), user_id, await request.body())
    headers = {"location": f"{PREFIX}/{customer.id}", "etag": tag.decode()}
    return Response(customer, status_code=201, headers=headers)


@patch(f"{PREFIX}/{{customer_id:str}}")
async def change_customer(request: AnyRequest, customer_id: str) -> Response[CustomerOut]:
    user_id = _caller(request)
    customer, tag = await update_customer(_pool(request), user_id, customer_id, await request.body())
    return Response(customer, headers={"etag": tag.decode()})


def _http_error(_: AnyRequest, error: Exception) -> Response[dict[str, str]]:
    assert isinstance(error, HttpError)
    return Response({"detail": error.detail}, status_code=error.status)


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    size = int(os.environ.get("REF_POOL_SIZE", "10"))
    app.state.pool = await asyncpg.create_pool(os.environ["REF_DATABASE_URL"], min_size=size, max_size=size)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Litestar(
    route_handlers=[health, read_customer, page_of_customers, new_customer, change_customer],
    exception_handlers={HttpError: _http_error},
    response_headers=[ResponseHeader(name=name.decode(), value=value.decode()) for name, value in SECURITY_HEADERS],
    lifespan=[_lifespan],
    openapi_config=None,
    logging_config=None,
    debug=False,
)
