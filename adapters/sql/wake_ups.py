"""Waking on a PostgreSQL notification: one dedicated connection that LISTENs on a channel, for whoever waits.

The live changes' feed and the webhook delivery queue both wait this way. Without the connection (refused, lost,
timed out) a wait simply lasts its full time: their callers poll, so nothing is lost, only later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg


class WakeUps:
    def __init__(
        self, dsn: str, channel: str, application_name: str, logger: logging.Logger, *, wake_on_connect: bool = False
    ) -> None:
        self._dsn = dsn
        # The waiting part's own logger: an operator filters by it.
        self._logger = logger
        self._channel = channel
        # How pg_stat_activity names the connection (migration 0009 looks for the live changes' one).
        self._application_name = application_name
        # Notifications sent while nobody listened are gone: a waiter that needs them reads once on connecting.
        self._wake_on_connect = wake_on_connect
        self._woken = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._connecting = asyncio.Lock()

    async def wait(self, seconds: float) -> None:
        """Return on a notification, or after ``seconds`` at most; connects (again) first if need be."""
        await self._listen()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._woken.wait()
        self._woken.clear()

    async def _listen(self) -> None:
        async with self._connecting:
            if self._listener is not None and not self._listener.is_closed():
                return
            try:
                self._listener = await asyncpg.connect(
                    self._dsn, timeout=5, server_settings={"application_name": self._application_name}
                )
                await self._listener.add_listener(self._channel, lambda *_: self._woken.set())
                if self._wake_on_connect:
                    self._woken.set()
            except Exception:  # refused, lost, timed out: in every case, poll until the next try
                self._logger.warning("Cannot LISTEN on %s; falling back to polling.", self._channel, exc_info=True)
                self._listener = None

    async def close(self) -> None:
        """Stop listening (the next ``wait`` listens again), under the lock that connecting takes, so that a
        ``wait`` starting meanwhile connects anew rather than keep the connection being closed."""
        async with self._connecting:
            listener, self._listener = self._listener, None
            if listener is not None:
                with contextlib.suppress(Exception):
                    await listener.close(timeout=2)
