"""Customer events for live changes: each recorded customer change, at its place in commit order.

An event carries the same body as the webhook of that change (type, time, the customer as it was after the
change, the changed fields) and, when the customer had a photo, where the photo is stored, so that each reader
gets freshly signed URLs and never the storage keys themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from domain.customers import Photo


class EventPosition(NamedTuple):
    """Where an event is: its transaction's place in commit order, then its place in the transaction.

    Shown to clients as ``<commit>.<change>``; they only hand it back (``Last-Event-ID``)."""

    commit: int
    change: int

    def encode(self) -> str:
        return f"{self.commit}.{self.change}"

    @classmethod
    def parse(cls, text: str) -> EventPosition | None:
        """The position ``text`` encodes, or None when it is not one we could have given."""
        commit, dot, change = text.strip().partition(".")
        if not dot or not (commit.isascii() and commit.isdigit() and change.isascii() and change.isdigit()):
            return None
        if len(commit) > 19 or len(change) > 19:
            return None
        position = cls(int(commit), int(change))
        return position if max(position) < 2**63 else None


# Before every event: where a stream starts when nothing has happened yet.
BEGINNING = EventPosition(0, 0)


@dataclass(frozen=True, slots=True)
class CustomerEvent:
    position: EventPosition
    # ``customer.created`` ... as for webhooks.
    type: str
    occurred_at: datetime
    # The webhook's ``data``: the customer after the change (only its id once it is gone), and ``changes``.
    data: dict[str, Any]
    # The customer's photo right after the change, if it had one.
    photo: Photo | None = None
