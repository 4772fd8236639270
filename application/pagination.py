"""Opaque cursors for keyset pages: the position after which the next page starts."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.errors import InvalidInput, MalformedRequest

T = TypeVar("T")

MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(rows: list[T], limit: int, position: Callable[[T], Sequence[Any]]) -> Page[T]:
    """A page from ``rows`` fetched with ``limit + 1``: the extra row only tells that another page
    follows, and the cursor is the ``position`` of the last row shown."""
    if len(rows) <= limit:
        return Page(rows, None)
    items = rows[:limit]
    return Page(items, encode_cursor(*position(items[-1])))


def encode_cursor(*position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, expected_length: int) -> list[Any]:
    """The position inside a cursor; ``MalformedRequest`` for anything we did not issue."""
    try:
        if len(cursor) > 1024:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise MalformedRequest("The cursor is not valid.") from error
    if not isinstance(position, list) or len(position) != expected_length:
        raise MalformedRequest("The cursor is not valid.")
    if not all(isinstance(part, str) for part in position):
        raise MalformedRequest("The cursor is not valid.")
    return position


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput.single("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def decode_time_and_id(cursor: str | None) -> tuple[datetime, UUID] | None:
    """The position in a cursor of a list ordered by creation time, then id (webhooks, API keys)."""
    if cursor is None:
        return None
    at, item_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(at), UUID(item_id)
    except ValueError as error:
        raise MalformedRequest("The cursor is not valid.") from error


def time_and_id_page(items: list[T], limit: int, position: Callable[[T], tuple[datetime, UUID]]) -> Page[T]:
    """``page_of`` for those lists: the cursor holds the last item's creation time and id."""
    return page_of(items, limit, lambda last: (position(last)[0].isoformat(), str(position(last)[1])))
