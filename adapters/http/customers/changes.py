"""GET /api/v1/customers/changes: every change to customers, live, as Server-Sent Events (contract 1.2).

The stream itself is made by ``application.customers.live_changes``; here it is opened for the caller (the same
``Authorization`` header as any request, so that a browser follows it with ``fetch``), resumed from
``Last-Event-ID`` or ``?after=``, and sent as ``text/event-stream`` without buffering.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import Stream

from adapters.http.access.authentication import SECURITY_WITH_API_KEYS
from adapters.http.openapi.operations import responses
from application.customers.change_streams import ChangeStream
from application.customers.live_changes import STREAMS_PER_CALLER, LiveChanges
from domain.sign_in import Actor
from domain.webhooks import CUSTOMER_EVENTS

MEDIA_TYPE = "text/event-stream"
_POSITION_LENGTH = 40

_EXAMPLE = (
    "retry: 2000\nid: 41.907\n\n"
    "id: 42.908\nevent: customer.updated\n"
    'data: {"type":"customer.updated","timestamp":"2026-12-06T09:30:00.000000Z","data":{"id":"ada","name":"Ada",'
    '"surname":"Lovelace","email":"ada@example.com","phone":null,"notes":null,"has_photo":true,'
    '"created_at":"2026-12-01T08:00:00.000000Z","created_by":{"id":"…","name":"Alice Admin"},'
    '"updated_at":"2026-12-06T09:30:00.000000Z","updated_by":{"id":"…","name":"Bob Clerk"},"version":3,'
    '"changes":[{"field":"email","old":null,"new":"ada@example.com"}],'
    '"photo_url":"https://…","photo_thumbnail_url":"https://…"}}\n\n'
    ": keep-alive\n\n"
)

DESCRIPTION = f"""Every change to customers made after the stream opened, on any replica, in commit order, each within
1 s, as Server-Sent Events. Users, and API keys with `customers:read`.

Each event has an `id:` (an opaque, increasing position), an `event:` type
({", ".join(f"`{t}`" for t in CUSTOMER_EVENTS)})
and one `data:` line: the webhook's body `{{"type", "timestamp", "data"}}` (`data.changes` for updates and
photo changes), with `photo_url` and `photo_thumbnail_url` signed for the reader when the customer has a photo.

Resume with `Last-Event-ID: <id>` (or `?after=<id>`): what happened after that position is replayed first, then the
stream goes on live, without gaps or repeats. A position that is unknown or too old → the first event is
`event: reset`: reload what you show, then follow on. The stream starts with `retry:` and the current position
(`id:` without an event), sends a comment line at least every 15 s, and ends when the access token expires, within
1 s of sign-out, revocation, deletion or a demotion that takes away access, and on shutdown (after `retry:`). At
most {STREAMS_PER_CALLER} streams per caller (→ 429) and a configured number in all (→ 503), both counted in each server
process, not across processes or replicas. EventSource cannot send `Authorization`: read it with `fetch` (see
docs/api.md)."""


def _acceptable(accept: str | None) -> bool:
    if not accept:
        return True
    kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return bool(kinds & {MEDIA_TYPE, "text/*", "*/*"})


class CustomerChangesController(Controller):
    path = "/api/v1/customers"
    tags = ["Customers"]
    security = SECURITY_WITH_API_KEYS

    @get(
        "/changes",
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type=MEDIA_TYPE,
                description="The stream of customer events (Server-Sent Events).",
                generate_examples=False,
                examples=[Example(id="live-changes", summary="The start of a stream", value=_EXAMPLE)],
            ),
            **responses(400, 401, 403, 406, 429, 503),
        },
        summary="Follow customer changes live (Server-Sent Events)",
        description=DESCRIPTION,
    )
    async def follow_customer_changes(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        live_changes: NamedDependency[LiveChanges],
        after: Annotated[
            str | None,
            QueryParameter(name="after", max_length=_POSITION_LENGTH, description="Resume after this event id."),
        ] = None,
        last_event_id: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID",
                max_length=_POSITION_LENGTH,
                required=False,
                description="Resume after this event id (what EventSource sends; wins over ?after=).",
            ),
        ] = None,
    ) -> Stream:
        if not _acceptable(request.headers.get("accept")):
            raise HTTPException(status_code=406, detail=f"This endpoint answers {MEDIA_TYPE} only.")
        credential = request.headers.get("authorization", "").partition(" ")[2].strip()
        stream, first = await live_changes.open(credential, actor, last_event_id or after)
        return Stream(
            _send(live_changes, stream, first),
            media_type=MEDIA_TYPE,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )


async def _send(live_changes: LiveChanges, stream: ChangeStream, first: bytes) -> AsyncIterator[bytes]:
    stream.started = True
    try:
        yield first
        async for text in live_changes.frames(stream):
            yield text
    finally:
        live_changes.close(stream)
