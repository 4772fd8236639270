"""Failed sign-in counts in process memory: for the in-memory profile and fast tests."""

from __future__ import annotations

from datetime import datetime

from application.access.sign_in_throttle import ThrottleRule, enforce_throttle
from application.ports.throttle import SignInThrottle


class InMemorySignInThrottle(SignInThrottle):
    def __init__(self) -> None:
        # key -> (failures in the current window, when that window started)
        self._counts: dict[str, tuple[int, datetime]] = {}

    async def check(self, rules: list[ThrottleRule], now: datetime) -> None:
        enforce_throttle(rules, self._counts, now)

    async def record_failure(self, rules: list[ThrottleRule], now: datetime) -> None:
        for rule in rules:
            failures, started = self._counts.get(rule.key, (0, now))
            if now >= started + rule.window:
                failures, started = 0, now
            self._counts[rule.key] = (failures + 1, started)

    async def forget(self, keys: list[str]) -> None:
        for key in keys:
            self._counts.pop(key, None)
