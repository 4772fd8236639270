"""Hearing ``crm_customer_changes`` as any LISTENing client would, and telling what a round of writes sent."""

from __future__ import annotations

import asyncio

import asyncpg

from adapters.sql.customers.events import CHANNEL, LISTENER_APPLICATION_NAME

# Sent by the watcher's writer after the writes of a round: PostgreSQL delivers notifications in commit order.
END_OF_ROUND = "end of round"
LIVE_CHANGES_LISTENERS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1"
)


class Watcher:
    """A connection that LISTENs on the channel under a name of its own: not a live changes listener, so its
    presence makes no writer notify."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self._heard: asyncio.Queue[str] = asyncio.Queue()

    @classmethod
    async def connect(cls, dsn: str) -> Watcher:
        watcher = cls(await asyncpg.connect(dsn, server_settings={"application_name": "test-watcher"}))
        await watcher.connection.add_listener(CHANNEL, lambda *arguments: watcher._heard.put_nowait(arguments[3]))
        return watcher

    async def heard_in_round(self) -> list[str]:
        """The payloads heard since the last round, up to a notification this sends now."""
        await self.connection.execute("SELECT pg_notify($1, $2)", CHANNEL, END_OF_ROUND)
        heard = []
        while (payload := await asyncio.wait_for(self._heard.get(), 10)) != END_OF_ROUND:
            heard.append(payload)
        return heard

    async def live_changes_listeners(self) -> list[int]:
        """Backends of the database's live changes listeners, as writers' triggers look for them."""
        rows = await self.connection.fetch(LIVE_CHANGES_LISTENERS, f"{LISTENER_APPLICATION_NAME}:%")
        return [row["pid"] for row in rows]

    async def wait_for_listeners(self, count: int, within: float = 10.0) -> list[int]:
        deadline = asyncio.get_running_loop().time() + within
        while len(found := await self.live_changes_listeners()) != count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(found)} live changes listeners, not {count}, after {within} s")
            await asyncio.sleep(0.05)
        return found

    async def aclose(self) -> None:
        await self.connection.close()
