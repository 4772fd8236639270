"""Who is calling: the bearer access token or API key, checked on every request under /api/v1.

An API key is let in only where the route's security names ``ApiKey`` (the customer endpoints): every other route,
today's or a future one, refuses it with 403 unless it says otherwise, and the OpenAPI document shows the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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


def actor_dependency(authenticate: Callable[[], Authenticate]) -> Provide:
    """The ``actor`` dependency. It takes the use case from the container directly rather than as a
    dependency of its own, so that a handler needing only the actor resolves one dependency."""

    async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
        header = request.headers.get("authorization")
        if not header:
            raise NotAuthenticated("Sign in and send the access token as 'Authorization: Bearer <token>'.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Send the access token as 'Authorization: Bearer <token>'.")
        actor = await authenticate().execute(token.strip())
        # Bound first, so that the access log names the key that was refused too.
        bind_user(str(actor.user_id))
        if actor.is_api_key and not _takes_api_keys(request):
            raise InsufficientScope(NOT_FOR_API_KEYS)
        return actor

    return Provide(provide_actor)


def _takes_api_keys(request: Request[Any, Any, Any]) -> bool:
    return any("ApiKey" in requirement for requirement in request.route_handler.resolve_security())


def refuse_api_keys(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """A guard for endpoints that take no access token (sign-in): an API key sent there is refused all the same."""
    credential = connection.headers.get("authorization", "").partition(" ")[2]
    if looks_like_api_key(credential.strip()):
        raise InsufficientScope(NOT_FOR_API_KEYS)
