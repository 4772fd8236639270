"""Following customer changes live: the hub that feeds every open stream of this process.

One task per process reads new events (woken by the feed's notification, or its poll) once, makes each event's
text once, and offers the batch to every stream in memory: a thousand streams cost one read per change, and no
database connection while they wait. A stream that resumes (``Last-Event-ID``) replays from the feed on its own
until it has caught up with the hub, then takes the hub's batches, dropping what the replay already sent.
The guard (``application.customers.stream_guard``) ends streams whose access ended, and all of them on shutdown.
The hub stops ``linger_seconds`` after the last stream closed, and lets go of the feed's wake-up (on PostgreSQL a
LISTEN connection, whose presence alone makes writers notify: migration 0009): a client that reconnects within
that time finds it still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

from application.access.authentication import Authenticate
from application.access.authorization import may_read_customers
from application.customers.change_streams import ChangeStream, EndOfStream
from application.customers.event_retention import ForgetOldChangeEvents
from application.customers.event_stream_text import HEARTBEAT, come_back, ended, event_frame, opening, reset
from application.ports.customer_events import CustomerEventFeed
from application.ports.photos import PhotoStorage
from application.ports.system import Clock
from domain.customer_events import EventPosition
from domain.errors import NotAuthenticated, ServiceUnavailable, TooManyAttempts
from domain.sign_in import Actor

logger = logging.getLogger("crm.live_changes")

# The contract's limit per caller (a user, or an API key).
STREAMS_PER_CALLER = 5
_BATCH = 500
# Changes that commit closer together than this go out together: one write per stream per window, not per change
# (a thousand streams cannot each be written a hundred times a second by one worker).
COALESCE_SECONDS = 0.05
_PRUNE_EVERY = 600.0


@dataclass(frozen=True, slots=True)
class LiveChangeSettings:
    max_streams: int = 1000
    heartbeat_seconds: float = 15.0
    poll_seconds: float = 0.5
    replay_window: timedelta = timedelta(hours=24)
    max_queued: int = 1000
    retry_ms: int = 2000
    linger_seconds: float = 10.0


class LiveChanges:
    def __init__(
        self,
        feed: CustomerEventFeed,
        authenticate: Authenticate,
        storage: PhotoStorage,
        clock: Clock,
        settings: LiveChangeSettings,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._feed = feed
        self._authenticate = authenticate
        self._storage = storage
        self._clock = clock
        self.settings = settings
        self.streams: set[ChangeStream] = set()
        self._per_caller: Counter[object] = Counter()
        self._position: EventPosition | None = None
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._pruned_at = 0.0
        self._forget_old = ForgetOldChangeEvents(feed, clock, settings.replay_window)
        # Whether the process was told to stop (the server's flag): no new streams then.
        self._stopping = stopping
        self.shutting_down = False
        # Called as each stream opens: the guard watches while there are streams.
        self.on_stream: Callable[[], None] = lambda: None

    async def open(self, credential: str, actor: Actor, after: str | None) -> tuple[ChangeStream, bytes]:
        """A new stream for ``actor`` (who sent ``credential``), and its first lines; ``after`` from
        ``Last-Event-ID`` or ``?after=``. Refused past the limits, and while shutting down."""
        may_read_customers(actor)
        if self.shutting_down or self._stopping():
            raise ServiceUnavailable("The service is shutting down: reconnect in a moment.")
        if self._per_caller[actor.user_id] >= STREAMS_PER_CALLER:
            raise TooManyAttempts(f"At most {STREAMS_PER_CALLER} live change streams per caller are open.", 5)
        if len(self.streams) >= self.settings.max_streams:
            raise ServiceUnavailable("This server follows as many live change streams as it may; try another.")
        expires_at = self._authenticate.access_until(credential)
        if expires_at is not None and expires_at <= self._clock.now():
            # Requests take a token a few seconds past its expiry (clock skew); a stream would end at once.
            raise NotAuthenticated("The access token has expired: refresh it, then reconnect.")
        stream = ChangeStream(
            actor,
            credential,
            expires_at,
            EventPosition(0, 0),
            replay=False,
            max_queued=self.settings.max_queued,
            checked_at=time.monotonic(),
        )
        # Counted before the first await, so that concurrent opens cannot pass the limits together.
        self.streams.add(stream)
        self._per_caller[actor.user_id] += 1
        try:
            live = await self._running()
            asked = None if after is None else EventPosition.parse(after)
            if after is not None and (asked is None or not await self._feed.knows(asked)):
                stream.position = live
                return stream, opening(live, self.settings.retry_ms) + reset(live)
            stream.position = asked if asked is not None else live
            stream.replaying = asked is not None
            return stream, opening(stream.position, self.settings.retry_ms)
        except BaseException:
            self.close(stream)
            raise

    def close(self, stream: ChangeStream) -> None:
        if stream in self.streams:
            self.streams.discard(stream)
            self._per_caller[stream.caller] -= 1
            if self._per_caller[stream.caller] <= 0:
                del self._per_caller[stream.caller]

    async def frames(self, stream: ChangeStream) -> AsyncIterator[bytes]:
        """What to send on ``stream`` after its first lines, until it ends; the stream is closed at the end."""
        try:
            if stream.replaying:
                async for text in self._replay(stream):
                    yield text
            while True:
                frames = await stream.next(self.settings.heartbeat_seconds)
                if stream.ended is EndOfStream.SHUTDOWN:
                    yield come_back(self.settings.retry_ms)
                    return
                if stream.ended is not None:
                    yield ended(stream.ended.value)
                    return
                yield b"".join(frame.text for frame in frames) if frames else HEARTBEAT
        finally:
            self.close(stream)

    async def _replay(self, stream: ChangeStream) -> AsyncIterator[bytes]:
        while stream.ended is None:
            try:
                events = await self._feed.after(stream.position, _BATCH)
            except Exception:  # the database is down, or a bug: the client comes back and resumes
                logger.warning("Cannot replay customer events.", exc_info=True)
                stream.end(EndOfStream.UNAVAILABLE)
                return
            if events:
                texts = [(await event_frame(event, self._storage)).text for event in events]
                stream.position = events[-1].position
                yield b"".join(texts)
            if len(events) < _BATCH:
                # Nothing was committed after the last read that the hub will not fetch: it is ours from here.
                stream.caught_up()
                return

    async def _running(self) -> EventPosition:
        """The hub's position, starting it (at the feed's latest event) if no stream was open."""
        async with self._starting:
            if self._task is None or self._position is None:
                self._position = await self._feed.latest()
                self._task = asyncio.create_task(self._follow(), name="crm-live-changes")
            # The guard may have stopped with the last stream even though the hub had not yet.
            self.on_stream()
            return self._position

    async def _follow(self) -> None:
        try:
            followed_at = time.monotonic()
            while True:
                wait = self.settings.poll_seconds
                if self.streams:
                    followed_at = time.monotonic()
                elif (left := followed_at + self.settings.linger_seconds - time.monotonic()) > 0:
                    wait = min(wait, left)
                elif await self._stopped():
                    return
                started = time.monotonic()
                try:
                    await self._feed.wait(wait)
                    started = time.monotonic()
                    await self._advance()
                    await self._prune()
                except Exception:  # the database is down, or a bug: the streams stay open, the next round retries
                    logger.warning("Cannot read customer events; retrying.", exc_info=True)
                    await asyncio.sleep(self.settings.poll_seconds)
                await asyncio.sleep(max(0.0, COALESCE_SECONDS - (time.monotonic() - started)))
        finally:
            self._task = None
            self._position = None

    async def _stopped(self) -> bool:
        """Stop, unless a stream opened meanwhile: under the start's lock, so that a stream opening now waits for the
        feed to be let go of and starts a hub of its own, which takes the wake-up again."""
        async with self._starting:
            if self.streams:
                return False
            self._task = None
            self._position = None
            await self._feed.aclose()
            return True

    async def _advance(self) -> None:
        assert self._position is not None
        while True:
            events = await self._feed.after(self._position, _BATCH)
            if not events:
                return
            frames = [await event_frame(event, self._storage) for event in events]
            self._position = events[-1].position
            for stream in list(self.streams):
                stream.offer(frames)
            if len(events) < _BATCH:
                return

    async def _prune(self) -> None:
        if time.monotonic() - self._pruned_at < _PRUNE_EVERY:
            return
        self._pruned_at = time.monotonic()
        await self._forget_old.execute()

    def end_all(self, reason: EndOfStream) -> None:
        for stream in list(self.streams):
            stream.end(reason)

    async def aclose(self) -> None:
        self.shutting_down = True
        self.end_all(EndOfStream.SHUTDOWN)
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._feed.aclose()
