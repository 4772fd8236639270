"""The Idempotency-Key header on create requests: the first answer is stored and repeated (application.idempotency)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from application.idempotency import IdempotentRequests, fingerprint
from application.ports.idempotency import StoredAnswer
from domain.sign_in import Actor

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[ -~]{1,255}$",
        description="1-255 printable ASCII characters. The same key with the same request within 24 hours repeats "
        "the first answer (with Idempotent-Replayed: true); with another body 422; while the first runs, 409.",
    ),
]
_REPEATED_HEADERS = ("location", "etag")


async def answer_once(
    request: Request[Any, Any, Any],
    actor: Actor,
    key: str | None,
    requests: IdempotentRequests,
    produce: Callable[[], Awaitable[Response[Any]]],
    *,
    body: bytes | None = None,
) -> Response[Any]:
    """``produce()``'s answer, or without a key exactly that; with a key, the stored first answer when repeated.

    ``body`` is the request's body when the handler has read it already (the import streams it against its limit).
    """
    if key is None:
        return await produce()
    if body is None:
        body = await request.body()

    async def first() -> StoredAnswer:
        response = await produce()
        headers = {name.lower(): value for name, value in response.headers.items() if name.lower() in _REPEATED_HEADERS}
        return StoredAnswer(response.status_code or 200, headers, msgspec.json.encode(response.content))

    answer, replayed = await requests.run(
        str(actor.user_id), key, fingerprint(request.method, _target(request), body), first
    )
    headers = dict(answer.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(content=answer.body, status_code=answer.status, headers=headers, media_type="application/json")


def _target(request: Request[Any, Any, Any]) -> str:
    """The path, and the query in a fixed order when there is one: the import's mode and dry run are the request too."""
    query = sorted(request.query_params.multi_items())
    if not query:
        return request.url.path
    return request.url.path + "?" + "&".join(f"{name}={value}" for name, value in query)
