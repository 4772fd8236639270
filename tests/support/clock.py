"""A clock for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.ports.system import Clock


class ManualClock(Clock):
    """A clock that moves only when told to: time in a test passes only when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 20, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
