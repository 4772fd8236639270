"""The guard of open live change streams: each ends when its caller's access ends, and all end on shutdown.

- An access token's stream ends when the token expires.
- Sign-out, revocation, deletion of the user or key, a demotion or a key's new scopes are announced
  (``application.access.changes``): the streams they concern are checked again at the next tick (a quarter of
  a second), with the same ``Authenticate`` a request goes through, and end when it refuses them or they may no
  longer read customers. While announcements cannot be relied on (the listener is down), every stream is
  checked each second instead; and every stream is checked once a minute in any case (an API key's expiry).
- When the process is told to stop, every stream ends at once, after a ``retry:`` hint, so that no open
  stream holds up the drain of ordinary requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from application.access.authentication import Authenticate
from application.access.authorization import may_read_customers
from application.access.changes import AccessChange, AccessChanges
from application.customers.change_streams import ChangeStream, EndOfStream
from application.customers.live_changes import LiveChanges
from application.ports.system import Clock
from domain.errors import NotAuthenticated, PermissionDenied

logger = logging.getLogger("crm.live_changes")

TICK_SECONDS = 0.25
UNANNOUNCED_CHECK_SECONDS = 1.0
CHECK_SECONDS = 60.0
NEVER_STARTED_SECONDS = 30.0


class StreamGuard:
    def __init__(
        self,
        hub: LiveChanges,
        authenticate: Authenticate,
        access_changes: AccessChanges,
        clock: Clock,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self._hub = hub
        self._authenticate = authenticate
        self._access_changes = access_changes
        self._clock = clock
        self._stopping = stopping
        self._concerned: set[ChangeStream] = set()
        self._task: asyncio.Task[None] | None = None
        access_changes.watch(self._heard)
        hub.on_stream = self.start

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="crm-live-changes-guard")

    def _heard(self, change: AccessChange) -> None:
        self._concerned.update(stream for stream in self._hub.streams if change.concerns(stream.actor))

    async def _watch(self) -> None:
        try:
            while self._hub.streams:
                await asyncio.sleep(TICK_SECONDS)
                if self._stopping():
                    self._hub.shutting_down = True
                    self._hub.end_all(EndOfStream.SHUTDOWN)
                    continue
                await self._check(self._due())
        finally:
            self._task = None

    def _due(self) -> list[ChangeStream]:
        due, self._concerned = self._concerned, set()
        now, moment = self._clock.now(), time.monotonic()
        every = CHECK_SECONDS if self._access_changes.announced() else UNANNOUNCED_CHECK_SECONDS
        for stream in list(self._hub.streams):
            if not stream.started and moment - stream.opened_at >= NEVER_STARTED_SECONDS:
                self._hub.close(stream)
            elif stream.expires_at is not None and now >= stream.expires_at:
                stream.end(EndOfStream.ACCESS)
            elif moment - stream.checked_at >= every:
                due.add(stream)
        return [stream for stream in due if stream.ended is None]

    async def _check(self, streams: list[ChangeStream]) -> None:
        """Check each credential once, however many streams it has open."""
        by_credential: dict[str, list[ChangeStream]] = {}
        for stream in streams:
            by_credential.setdefault(stream.credential, []).append(stream)
        outcomes = await asyncio.gather(*(self._allowed(credential) for credential in by_credential))
        moment = time.monotonic()
        for (_, group), allowed in zip(by_credential.items(), outcomes, strict=True):
            for stream in group:
                if allowed is False:
                    stream.end(EndOfStream.ACCESS)
                elif allowed is True:
                    stream.checked_at = moment

    async def _allowed(self, credential: str) -> bool | None:
        """Whether the credential may still read customers; None when that could not be told (checked again)."""
        try:
            may_read_customers(await self._authenticate.execute(credential))
        except (NotAuthenticated, PermissionDenied):
            return False
        except Exception:
            logger.warning("Cannot check a live change stream's access; checking again.", exc_info=True)
            return None
        return True
