"""The live changes' event feed on PostgreSQL: read in commit order (migration 0008), woken by LISTEN.

Each read takes a pooled connection for one statement and gives it back: a stream waiting for events holds
none. One dedicated connection per process LISTENs on ``crm_customer_changes`` while the process's hub runs, from its
first ``wait`` to ``aclose``; without it, callers still find new events at their next poll (``wait``'s timeout).
Writers notify only while such a connection exists (migration 0009 looks for its ``application_name``): PostgreSQL
lets one notifying commit through at a time, a cost not worth paying when no process follows live changes.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.customers.event_tables import customer_event_commits, customer_events
from adapters.sql.wake_ups import WakeUps
from application.ports.customer_events import CustomerEventFeed
from domain.customer_events import BEGINNING, CustomerEvent, EventPosition
from domain.customers import Photo

logger = logging.getLogger("crm.live_changes")

# The channel migration 0008's commit trigger notifies; changing it needs a migration too.
CHANNEL = "crm_customer_changes"
# The listener shows up in pg_stat_activity as "crm-live-changes:<process id>", which is what migration 0009's
# trigger looks for before it notifies: changing it needs a migration too.
LISTENER_APPLICATION_NAME = "crm-live-changes"

_commits, _events = customer_event_commits, customer_events
# Migration 0008's lock, which writers hold in shared mode from taking a position until their commit is visible.
# Held exclusively for a read, it waits for the commits under way and holds new ones back until the read's
# transaction ends: the read sees every position given out so far, and no later one can come below them.
_COMPLETE_PREFIX = text("SELECT pg_advisory_xact_lock(2026120621)")
_SELECT = (
    select(
        _commits.c.position,
        _events.c.change_id,
        _events.c.type,
        _events.c.occurred_at,
        _events.c.data,
        _events.c.photo_key,
        _events.c.photo_thumbnail_key,
        _events.c.photo_content_type,
    )
    .select_from(_commits.join(_events, _events.c.xid == _commits.c.xid))
    .order_by(_commits.c.position, _events.c.change_id)
)


def _event(row: Row[Any]) -> CustomerEvent:
    photo = None
    if row.photo_key is not None:
        photo = Photo(row.photo_key, row.photo_thumbnail_key, row.photo_content_type)
    return CustomerEvent(EventPosition(row.position, row.change_id), row.type, row.occurred_at, row.data, photo)


class SqlCustomerEventFeed(CustomerEventFeed):
    def __init__(self, engine: AsyncEngine, dsn: str) -> None:
        self._engine = engine
        # Writers did not notify while no listener was connected (migration 0009): on connecting it wakes the
        # caller once, for the changes that committed since its last read.
        self._wake_ups = WakeUps(
            dsn, CHANNEL, f"{LISTENER_APPLICATION_NAME}:{os.getpid()}", logger, wake_on_connect=True
        )

    async def latest(self) -> EventPosition:
        async with self._engine.begin() as connection:
            await connection.execute(_COMPLETE_PREFIX)
            statement = (
                select(_commits.c.position, _events.c.change_id)
                .select_from(_commits.join(_events, _events.c.xid == _commits.c.xid))
                .order_by(_commits.c.position.desc(), _events.c.change_id.desc())
                .limit(1)
            )
            row = (await connection.execute(statement)).first()
        return BEGINNING if row is None else EventPosition(row.position, row.change_id)

    async def after(self, position: EventPosition, limit: int) -> list[CustomerEvent]:
        commit, change = position
        statement = _SELECT.where(
            _commits.c.position >= commit,
            or_(_commits.c.position > commit, _events.c.change_id > change),
        ).limit(limit)
        async with self._engine.begin() as connection:
            await connection.execute(_COMPLETE_PREFIX)
            return [_event(row) for row in await connection.execute(statement)]

    async def knows(self, position: EventPosition) -> bool:
        async with self._engine.connect() as connection:
            if position == BEGINNING:
                # Known while nothing was pruned: the first commit is still there, or there was none yet (pruning
                # keeps the last one).
                first = (await connection.execute(select(func.min(_commits.c.position)))).scalar()
                return first is None or bool(first == 1)
            found = await connection.execute(select(_commits.c.xid).where(_commits.c.position == position.commit))
            return found.first() is not None

    async def prune(self, before: datetime) -> int:
        async with self._engine.begin() as connection:
            # Their events go with them (ON DELETE CASCADE). The last commit stays, so that an empty table
            # means that nothing was ever committed, and the beginning may be resumed from.
            last = select(func.max(_commits.c.position)).scalar_subquery()
            gone = (
                delete(_commits)
                .where(_commits.c.committed_at < before, _commits.c.position < last)
                .returning(_commits.c.xid)
                .cte("gone")
            )
            # The count reads the snapshot from before the statement, in which the cascade has not yet run.
            counted = select(func.count()).select_from(_events).where(_events.c.xid.in_(select(gone.c.xid)))
            return int((await connection.execute(counted)).scalar_one())

    async def wait(self, seconds: float) -> None:
        await self._wake_ups.wait(seconds)

    async def aclose(self) -> None:
        """Stop listening; the next ``wait`` listens again."""
        await self._wake_ups.close()
