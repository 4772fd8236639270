"""Who is calling: the bearer access token, checked on every request under /api/v1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.di import Provide

from adapters.http.observability import bind_user
from application.sign_in import Authenticate
from domain.errors import NotAuthenticated
from domain.sign_in import Actor

SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]


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
        bind_user(str(actor.user_id))
        return actor

    return Provide(provide_actor)
