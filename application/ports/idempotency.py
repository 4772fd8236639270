"""Idempotency records: the first answer to a request sent with an ``Idempotency-Key``, kept for a day."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    # The headers a replay repeats (Location, ETag, Content-Type), lower-case names.
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    # SHA-256 of method, path and body: what must match for a replay.
    fingerprint: str
    # None while the first request is still running.
    answer: StoredAnswer | None


class IdempotencyRecords(ABC):
    """Shared by every replica; each operation stands alone (not in a use case's unit of work)."""

    @abstractmethod
    async def claim(
        self, caller: str, key: str, fingerprint: str, now: datetime, expired_before: datetime
    ) -> IdempotencyRecord | None:
        """Start a record for (caller, key) and return None; or, when one exists that was made after
        ``expired_before``, return it unchanged (an older one is replaced: it has expired). Atomic: of two callers
        claiming at once, one gets None."""

    @abstractmethod
    async def complete(self, caller: str, key: str, answer: StoredAnswer) -> None: ...

    @abstractmethod
    async def release(self, caller: str, key: str) -> None:
        """Forget an unfinished record (the first request failed without an answer worth repeating)."""

    @abstractmethod
    async def sweep(self, expired_before: datetime) -> int:
        """Delete records made before ``expired_before``; how many."""


class AnswerSeal(ABC):
    """Keeps stored answers unreadable to whoever reads the database or its backups: an answer may hold a secret
    shown only once (a new API key, a webhook's signing secret) and personal data."""

    @abstractmethod
    def seal(self, body: bytes, record: str) -> bytes:
        """``body`` encrypted and bound to ``record`` (the caller and key), so that it opens for that record only."""

    @abstractmethod
    def open(self, sealed: bytes, record: str) -> bytes | None:
        """The body, or None when it cannot be opened (sealed with another secret, or for another record)."""
