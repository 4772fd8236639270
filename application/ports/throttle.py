"""The shared count of failed sign-ins; what the counts mean is decided in ``application.access.sign_in_throttle``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from application.access.sign_in_throttle import ThrottleRule


class SignInThrottle(ABC):
    """Counts failed sign-ins per key (an account, a client address, or both) across all replicas."""

    @abstractmethod
    async def check(self, rules: list[ThrottleRule], now: datetime) -> None:
        """Raise ``TooManyAttempts`` (with the seconds to wait) if any rule's key is over its limit."""

    @abstractmethod
    async def record_failure(self, rules: list[ThrottleRule], now: datetime) -> None: ...

    @abstractmethod
    async def forget(self, keys: list[str]) -> None:
        """A successful sign-in clears the counts of these keys."""
