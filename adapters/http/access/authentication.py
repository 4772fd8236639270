"""Who is calling: the bearer access token or API key, checked on every request under /api/v1.

An API key is let in only where the route's security names ``ApiKey`` (the customer endpoints): every other route,
today's or a future one, refuses it with 403 unless it says otherwise, and the OpenAPI document shows the same.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, cast

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler

from adapters.http.edge.observability import bind_user
from application.access.authentication import Authenticate
from application.access.authorization import NOT_FOR_API_KEYS
from domain.api_keys import looks_like_api_key
from domain.errors import InsufficientScope, NotAuthenticated
from domain.sign_in import Actor

SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]
# Where API keys may be used too; the use cases check each key's scopes.
SECURITY_WITH_API_KEYS: list[dict[str, list[str]]] = [{"BearerAuth": []}, {"ApiKey": []}]
# Where the edge leaves the actor it authenticated to count the request (adapters/http/edge/fair_use.py).
_ACTOR_IN_SCOPE = "crm.actor"


def bearer_credential(header: str) -> str | None:
    """The credential of an ``Authorization: Bearer <credential>`` header, or None for any other form."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def remember_actor(scope: MutableMapping[str, Any], actor: Actor) -> None:
    scope[_ACTOR_IN_SCOPE] = actor


def _remembered_actor(request: Request[Any, Any, Any]) -> Actor | None:
    return cast("dict[str, Actor | None]", request.scope).get(_ACTOR_IN_SCOPE)


def actor_dependency(authenticate: Callable[[], Authenticate]) -> Provide:
    """The ``actor`` dependency. It takes the use case from the container directly rather than as a
    dependency of its own, so that a handler needing only the actor resolves one dependency."""

    async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
        actor = _remembered_actor(request)
        if actor is None:
            actor = await _authenticated(request, authenticate)
        # Bound first, so that the access log names the key that was refused too.
        bind_user(str(actor.user_id))
        if actor.is_api_key and not _takes_api_keys(request):
            raise InsufficientScope(NOT_FOR_API_KEYS)
        return actor

    return Provide(provide_actor)


async def _authenticated(request: Request[Any, Any, Any], authenticate: Callable[[], Authenticate]) -> Actor:
    header = request.headers.get("authorization")
    if not header:
        raise NotAuthenticated("Sign in and send the access token as 'Authorization: Bearer <token>'.")
    credential = bearer_credential(header)
    if credential is None:
        raise NotAuthenticated("Send the access token as 'Authorization: Bearer <token>'.")
    return await authenticate().execute(credential)


def _takes_api_keys(request: Request[Any, Any, Any]) -> bool:
    return any("ApiKey" in requirement for requirement in request.route_handler.resolve_security())


def refuse_api_keys(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A guard for endpoints that take no access token (sign-in): an API key sent there is refused all the same."""
    credential = connection.headers.get("authorization", "").partition(" ")[2]
    if looks_like_api_key(credential.strip()):
        raise InsufficientScope(NOT_FOR_API_KEYS)
