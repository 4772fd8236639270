"""The listener that keeps the actor cache correct: a dedicated connection that LISTENs for the auth changes
that PostgreSQL's triggers announce (migration 0002), and proves by echoes that notifications reach it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy.engine import make_url

from adapters.sql.engine import ssl_mode

if TYPE_CHECKING:
    from adapters.sql.access.actor_cache import ActorCache

# The channel that the triggers of migration 0002 notify; changing it needs a migration too.
CHANNEL = "crm_auth_changes"
# How the listener connection shows up in pg_stat_activity (followed by ":<process id>").
LISTENER_APPLICATION_NAME = "crm-auth-listener"
# Listeners' own heartbeats on the channel ("ping:<process id>:<n>"): not changes.
_PING = "ping:"

logger = logging.getLogger("crm.auth_cache")


def listener_dsn(database_url: str) -> str:
    """A DSN for ``asyncpg.connect`` from ``DATABASE_URL`` in any of the forms the engine accepts, with
    the same TLS mode as the engine's connections (``engine.ssl_mode``)."""
    url = make_url(database_url).set(drivername="postgresql")
    query = dict(url.query)
    mode = ssl_mode(url)
    query.pop("ssl", None)
    # asyncpg's DSN parser knows libpq's name.
    query["sslmode"] = mode
    return url.set(query=query).render_as_string(hide_password=False)


class AuthChangeListener:
    """One dedicated asyncpg connection (not from the engine's pool) that LISTENs on ``CHANNEL`` and tells
    the cache about every notification, and about the connection coming and going."""

    def __init__(
        self,
        dsn: str,
        cache: ActorCache,
        *,
        ping_interval: float = 5.0,
        timeout: float = 5.0,
        retry_min: float = 1.0,
        retry_max: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._cache = cache
        self._ping_interval = ping_interval
        self._timeout = timeout
        self._retry_min = retry_min
        self._retry_max = retry_max
        self._task: asyncio.Task[None] | None = None
        self._pings = 0
        self._echo: tuple[str, asyncio.Event] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="crm-auth-listener")

    async def aclose(self) -> None:
        """Stop listening. Bounded: should a library ever swallow the cancellation, shutdown goes on after
        ``timeout`` seconds with a warning instead of waiting for the listener for ever."""
        task, self._task = self._task, None
        self._cache.listening_stopped()
        if task is None:
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            logger.warning("The auth change listener did not stop within %s s: left behind.", self._timeout)
            return
        with contextlib.suppress(asyncio.CancelledError):
            task.result()

    async def _run(self) -> None:
        delay = self._retry_min
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(
                    self._dsn,
                    timeout=self._timeout,
                    server_settings={"application_name": f"{LISTENER_APPLICATION_NAME}:{os.getpid()}"},
                )
                lost = asyncio.Event()
                connection.add_termination_listener(functools.partial(self._lost, lost))
                # LISTEN has no timeout of its own: a server that accepted us but does not answer must not
                # keep the listener waiting (and the cache off) for ever instead of trying again.
                async with asyncio.timeout(self._timeout):
                    await connection.add_listener(CHANNEL, self._notified)
                # LISTEN is in effect from here on: anything committed later will be announced. One echo
                # first, so that the cache is never on behind a path that does not deliver notifications.
                await self._ping(connection)
                self._cache.listening_started()
                logger.info("Listening for auth changes: the actor cache is on.")
                delay = self._retry_min
                await self._watch(connection, lost)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # refused, lost, timed out, or a bug: in every case, retry later
                logger.warning("Auth change listener unavailable (%r): the actor cache is off.", error)
            finally:
                self._cache.listening_stopped()
                if connection is not None:
                    connection.terminate()
            await asyncio.sleep(delay * random.uniform(1.0, 1.5))  # noqa: S311  # jitter, not a secret
            delay = min(delay * 2, self._retry_max)

    async def _watch(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        """Return never; raise once the connection is lost or stops echoing pings."""
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that
                # arrives as its timeout fires, and aclose() would then wait for a listener that never stops.
                async with asyncio.timeout(self._ping_interval):
                    await lost.wait()
            except TimeoutError:
                await self._ping(connection)
                self._cache.heard_from_listener()
            else:
                raise ConnectionError("the listener connection was closed")

    async def _ping(self, connection: asyncpg.Connection) -> None:
        """Notify ourselves and wait for the echo: proof that notifications reach us, not only that the
        connection answers (behind a transaction-pooling proxy, for one, LISTEN would silently hear nothing)."""
        self._pings += 1
        echo = asyncio.Event()
        self._echo = (f"{_PING}{os.getpid()}:{self._pings}", echo)
        try:
            await connection.fetchval("SELECT pg_notify($1, $2)", CHANNEL, self._echo[0], timeout=self._timeout)
            async with asyncio.timeout(self._timeout):
                await echo.wait()
        finally:
            self._echo = None

    def _lost(self, lost: asyncio.Event, _connection: Any) -> None:
        # Stop answering at the first sign, before the watching task even wakes up.
        self._cache.listening_stopped()
        lost.set()

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith(_PING):
            # Every listener's pings reach every listener: only our own matters, and none is a change.
            if self._echo is not None and payload == self._echo[0]:
                self._echo[1].set()
            return
        self._cache.invalidate(payload)
