"""Idempotency records in process memory, with the SQL adapter's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports.idempotency import IdempotencyRecord, IdempotencyRecords, StoredAnswer


@dataclass(slots=True)
class _Record:
    fingerprint: str
    created_at: datetime
    answer: StoredAnswer | None = None


class InMemoryIdempotencyRecords(IdempotencyRecords):
    def __init__(self) -> None:
        self._records: dict[tuple[str, str], _Record] = {}

    async def claim(
        self, caller: str, key: str, fingerprint: str, now: datetime, expired_before: datetime
    ) -> IdempotencyRecord | None:
        found = self._records.get((caller, key))
        if found is None or found.created_at < expired_before:
            self._records[caller, key] = _Record(fingerprint, now)
            return None
        return IdempotencyRecord(found.fingerprint, found.answer)

    async def complete(self, caller: str, key: str, answer: StoredAnswer) -> None:
        found = self._records.get((caller, key))
        if found is not None:
            found.answer = answer

    async def release(self, caller: str, key: str) -> None:
        found = self._records.get((caller, key))
        if found is not None and found.answer is None:
            del self._records[caller, key]

    async def sweep(self, expired_before: datetime) -> int:
        old = [identity for identity, record in self._records.items() if record.created_at < expired_before]
        for identity in old:
            del self._records[identity]
        return len(old)
