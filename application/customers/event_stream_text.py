"""The text of a live changes stream (Server-Sent Events, ``text/event-stream``), made once per event.

Each event is ``id: <position>``, ``event: <type>`` and one ``data:`` line holding the webhook's body, with the
photo's URLs signed at the time it is sent (``photo_url`` and ``photo_thumbnail_url``, as a customer read shows
them). Comment lines (``:``) keep idle connections open; ``retry:`` tells a client when to come back.
"""

from __future__ import annotations

from application.customers.change_streams import Frame
from application.event_body import encode_event_body
from application.ports.photos import PhotoStorage
from domain.customer_events import CustomerEvent, EventPosition

HEARTBEAT = b": keep-alive\n\n"
RESET = "reset"


async def event_frame(event: CustomerEvent, storage: PhotoStorage) -> Frame:
    data = event.data
    photo = event.photo
    if photo is not None:
        data = {
            **data,
            "photo_url": await storage.url_for(photo.key, photo.content_type),
            "photo_thumbnail_url": await storage.url_for(photo.thumbnail_key, photo.content_type),
        }
    body = encode_event_body(event.type, event.occurred_at, data)
    head = f"id: {event.position.encode()}\nevent: {event.type}\ndata: ".encode()
    return Frame(event.position, head + body + b"\n\n")


def opening(position: EventPosition, retry_ms: int) -> bytes:
    """The first lines: how long to wait before reconnecting, and the position to resume from should the
    connection drop before any event (an ``id:`` without ``data:`` sets it without making an event)."""
    return f"retry: {retry_ms}\nid: {position.encode()}\n\n".encode()


def reset(position: EventPosition) -> bytes:
    """The position asked for is not known (any more): the client reloads what it shows, then follows on."""
    body = b'{"type":"reset","detail":"The position to resume from is unknown or too old: reload, then follow on."}'
    return f"id: {position.encode()}\nevent: {RESET}\ndata: ".encode() + body + b"\n\n"


def come_back(retry_ms: int) -> bytes:
    """The last lines before the process stops: reconnect after ``retry_ms`` (to a replica still serving)."""
    return f": shutting down\nretry: {retry_ms}\n\n".encode()


def ended(reason: str) -> bytes:
    return f": {reason}\n\n".encode()
