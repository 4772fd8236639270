"""The replicas' exchange of admitted requests in PostgreSQL: one short transaction per replica and second.

Each exchange upserts this replica's totals (absolute, so a repeated report changes nothing), marks the replica
live, and reads the other replicas' totals of the last slots summed per caller and slot (through the index on
``slot``: the rows kept for a day do not make it slower). Liveness is judged on the database's clock, so that the
replicas' clocks need not agree. A replica that starts reads the history once (``history``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.ports.admissions import AdmissionExchange, PeerAdmissions, Retention, SlotKey

# A replica that has not exchanged for this long no longer takes a share of anyone's quota.
LIVE_SECONDS = 5

_REPORT = text(
    "INSERT INTO rate_limit_admissions (replica, caller, slot, admitted)"
    " SELECT :replica, caller, slot, admitted"
    " FROM unnest(CAST(:callers AS text[]), CAST(:slots AS bigint[]), CAST(:totals AS bigint[]))"
    " AS reported (caller, slot, admitted)"
    " ON CONFLICT (replica, caller, slot) DO UPDATE SET admitted = EXCLUDED.admitted"
)
_ALIVE = text(
    "INSERT INTO rate_limit_replicas (replica, seen_at) VALUES (:replica, now())"
    " ON CONFLICT (replica) DO UPDATE SET seen_at = EXCLUDED.seen_at"
)
_LIVE = text("SELECT count(*) FROM rate_limit_replicas WHERE seen_at > now() - make_interval(secs => :live)")
_OTHERS = text(
    "SELECT caller, slot, sum(admitted) AS admitted FROM rate_limit_admissions"
    " WHERE slot >= :since AND replica <> :replica GROUP BY caller, slot"
)
_LEAVE = text("DELETE FROM rate_limit_replicas WHERE replica = :replica")
# Slots older than the exact ones in quarter hours: a day of an API key is 96 rows, not 1,441 per replica.
_HISTORY = text(
    "SELECT caller, CASE WHEN slot >= :exact_from THEN slot ELSE slot - slot % :bucket END AS slot,"
    " sum(admitted) AS admitted FROM rate_limit_admissions"
    " WHERE slot >= :since AND replica <> :replica GROUP BY 1, 2"
)
# In two statements, each through the index on slot: the oldest slots of all callers, then what the callers kept
# shorter left within the hour before ``kept_from`` (all the day's slots of the others would be scanned otherwise).
_FORGET_SLOTS = text("DELETE FROM rate_limit_admissions WHERE slot < :longer_from")
_FORGET_SHORTER = text(
    "DELETE FROM rate_limit_admissions"
    " WHERE slot >= greatest(:longer_from, :kept_from - 60) AND slot < :kept_from"
    " AND NOT starts_with(caller, :longer_for)"
)
_FORGET_REPLICAS = text("DELETE FROM rate_limit_replicas WHERE seen_at < now() - interval '1 hour'")


class SqlAdmissionExchange(AdmissionExchange):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def exchange(self, replica: str, admitted: Mapping[SlotKey, int], since_slot: int) -> PeerAdmissions:
        async with self._engine.begin() as connection:
            if admitted:
                keys = list(admitted)
                await connection.execute(
                    _REPORT,
                    {
                        "replica": replica,
                        "callers": [caller for caller, _ in keys],
                        "slots": [slot for _, slot in keys],
                        "totals": [admitted[key] for key in keys],
                    },
                )
            await connection.execute(_ALIVE, {"replica": replica})
            live = int((await connection.execute(_LIVE, {"live": LIVE_SECONDS})).scalar_one())
            rows = await connection.execute(_OTHERS, {"since": since_slot, "replica": replica})
            others = {(row.caller, int(row.slot)): int(row.admitted) for row in rows}
        return PeerAdmissions(replicas=live, admitted=others)

    async def history(self, replica: str, since_slot: int, *, exact_from: int, bucket: int) -> dict[SlotKey, int]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                _HISTORY, {"since": since_slot, "replica": replica, "exact_from": exact_from, "bucket": bucket}
            )
            return {(row.caller, int(row.slot)): int(row.admitted) for row in rows}

    async def leave(self, replica: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(_LEAVE, {"replica": replica})

    async def forget(self, retention: Retention) -> None:
        longer_from = min(retention.longer_from, retention.kept_from)
        async with self._engine.begin() as connection:
            await connection.execute(_FORGET_SLOTS, {"longer_from": longer_from})
            await connection.execute(
                _FORGET_SHORTER,
                {"longer_from": longer_from, "kept_from": retention.kept_from, "longer_for": retention.longer_for},
            )
            await connection.execute(_FORGET_REPLICAS)
