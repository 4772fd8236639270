"""Failed sign-in counts in process memory: for the in-memory profile and fast tests."""

from __future__ import annotations

import math
from datetime import datetime

from application.ports import SignInThrottle, ThrottleRule
from domain.errors import TooManyAttempts

TOO_MANY = "Too many failed sign-ins; wait before trying again."


class InMemorySignInThrottle(SignInThrottle):
    def __init__(self) -> None:
        # key -> (failures in the current window, when that window started)
        self._counts: dict[str, tuple[int, datetime]] = {}

    async def check(self, rules: list[ThrottleRule], now: datetime) -> None:
        waits = []
        for rule in rules:
            failures, started = self._counts.get(rule.key, (0, now))
            ends = started + rule.window
            if now < ends and failures >= rule.max_failures:
                waits.append(math.ceil((ends - now).total_seconds()))
        if waits:
            raise TooManyAttempts(TOO_MANY, retry_after=max(waits))

    async def record_failure(self, rules: list[ThrottleRule], now: datetime) -> None:
        for rule in rules:
            failures, started = self._counts.get(rule.key, (0, now))
            if now >= started + rule.window:
                failures, started = 0, now
            self._counts[rule.key] = (failures + 1, started)

    async def forget(self, keys: list[str]) -> None:
        for key in keys:
            self._counts.pop(key, None)
