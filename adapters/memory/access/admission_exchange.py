"""The replicas' exchange of admitted requests in process memory: the twin of the PostgreSQL one, shared by
limiters of one process (the in-memory profile, and the contract tests' two replicas)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from application.ports.admissions import AdmissionExchange, PeerAdmissions, Retention, SlotKey
from application.ports.system import Clock

LIVE_FOR = timedelta(seconds=5)


class InMemoryAdmissionExchange(AdmissionExchange):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._totals: dict[tuple[str, str, int], int] = {}
        self._seen: dict[str, datetime] = {}

    async def exchange(self, replica: str, admitted: Mapping[SlotKey, int], since_slot: int) -> PeerAdmissions:
        now = self._clock.now()
        for (caller, slot), total in admitted.items():
            self._totals[replica, caller, slot] = total
        self._seen[replica] = now
        live = sum(1 for seen in self._seen.values() if seen > now - LIVE_FOR)
        return PeerAdmissions(replicas=live, admitted=self._others(replica, since_slot, since_slot))

    async def history(self, replica: str, since_slot: int, *, exact_from: int, bucket: int) -> dict[SlotKey, int]:
        return self._others(replica, since_slot, exact_from, bucket)

    def _others(self, replica: str, since_slot: int, exact_from: int, bucket: int = 1) -> dict[SlotKey, int]:
        others: dict[SlotKey, int] = {}
        for (owner, caller, slot), total in self._totals.items():
            if owner != replica and slot >= since_slot:
                key = (caller, slot if slot >= exact_from else slot - slot % bucket)
                others[key] = others.get(key, 0) + total
        return others

    async def leave(self, replica: str) -> None:
        self._seen.pop(replica, None)

    async def forget(self, retention: Retention) -> None:
        self._totals = {
            key: total
            for key, total in self._totals.items()
            if key[2] >= retention.kept_from
            or (key[1].startswith(retention.longer_for) and key[2] >= retention.longer_from)
        }
        cutoff = self._clock.now() - timedelta(hours=1)
        self._seen = {replica: seen for replica, seen in self._seen.items() if seen >= cutoff}
