"""One open stream of live changes: what it has still to send, bounded, and why it ended.

The hub (``application.customers.live_changes``) offers each batch of events to every stream; a stream keeps at most
``max_queued`` frames for its client. A client that does not read fills that and is dropped (it reconnects with
``Last-Event-ID`` and loses nothing), so that one slow reader never makes the process buffer without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.customer_events import EventPosition
from domain.sign_in import Actor


@dataclass(frozen=True, slots=True)
class Frame:
    """One event as it goes on the wire (``id:``, ``event:``, ``data:``), made once and shared by every stream."""

    position: EventPosition
    text: bytes


class EndOfStream(enum.Enum):
    # The caller's access ended: token expired, signed out, revoked, deleted, or no longer allowed to read.
    ACCESS = "access ended"
    # The process is shutting down: the client is told to come back (``retry:``), to another replica.
    SHUTDOWN = "shutting down"
    # The client did not read what it was sent.
    SLOW_READER = "slow reader"
    # The events could not be read (the database did not answer).
    UNAVAILABLE = "unavailable"


class ChangeStream:
    def __init__(
        self,
        actor: Actor,
        credential: str,
        expires_at: datetime | None,
        start: EventPosition,
        *,
        replay: bool,
        max_queued: int,
        checked_at: float,
    ) -> None:
        self.actor = actor
        self.credential = credential
        # When the access token expires; None for an API key (re-checked from time to time instead).
        self.expires_at = expires_at
        # The last position sent (or to start after).
        self.position = start
        # True until the replay after ``Last-Event-ID`` has caught up with what the hub has fetched.
        self.replaying = replay
        self.checked_at = checked_at
        self.opened_at = checked_at
        # Set when the server starts sending it; a stream never started (the client left at once) is dropped.
        self.started = False
        self.ended: EndOfStream | None = None
        self._max_queued = max_queued
        self._queued: deque[Frame] = deque()
        self._wake = asyncio.Event()

    @property
    def caller(self) -> UUID:
        return self.actor.user_id

    def offer(self, frames: Sequence[Frame]) -> None:
        """The hub's new events; kept while replaying too, and sent once the replay has passed them."""
        if self.ended is not None:
            return
        if len(self._queued) + len(frames) > self._max_queued:
            self._queued.clear()
            self.end(EndOfStream.SLOW_READER)
            return
        self._queued.extend(frames)
        if not self.replaying:
            self._wake.set()

    def caught_up(self) -> None:
        """The replay has sent everything up to ``position``: from now on, what the hub offers."""
        self.replaying = False
        while self._queued and self._queued[0].position <= self.position:
            self._queued.popleft()
        self._wake.set()

    def end(self, reason: EndOfStream) -> None:
        if self.ended is None:
            self.ended = reason
            self._wake.set()

    async def next(self, seconds: float) -> list[Frame]:
        """What there is to send, waiting up to ``seconds`` for it; [] on timeout or when the stream ended."""
        if not self._queued and self.ended is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._wake.wait()
        self._wake.clear()
        if self.ended is not None:
            return []
        frames = [frame for frame in self._queued if frame.position > self.position]
        self._queued.clear()
        if frames:
            self.position = frames[-1].position
        return frames
