"""The sign-in throttle rule: how many failures a key may have in a window, and how long to wait after."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import TooManyAttempts


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """At most ``max_failures`` failed sign-ins for ``key`` in a window of ``window``; then wait for the
    window to end. Windows end, so nobody is ever locked out for good."""

    key: str
    max_failures: int
    window: timedelta

    def seconds_to_wait(self, failures: int, window_started: datetime, now: datetime) -> int:
        """0 while sign-ins may be tried, else how long until this rule's window ends."""
        ends = window_started + self.window
        if now >= ends or failures < self.max_failures:
            return 0
        return math.ceil((ends - now).total_seconds())


TOO_MANY_FAILED_SIGN_INS = "Too many failed sign-ins; wait before trying again."


def enforce_throttle(rules: list[ThrottleRule], counts: Mapping[str, tuple[int, datetime]], now: datetime) -> None:
    """Raise ``TooManyAttempts`` when any rule's key has ``counts`` (failures, window start) over its limit.

    Every throttle adapter reads its counts its own way and decides here, so that they all agree."""
    waits = [rule.seconds_to_wait(*counts.get(rule.key, (0, now)), now) for rule in rules]
    if any(waits):
        raise TooManyAttempts(TOO_MANY_FAILED_SIGN_INS, retry_after=max(waits))


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failed password sign-ins are tolerated before callers must wait.

    The tight limit is per account *and* client address, so that an attacker elsewhere cannot lock the
    real owner out; the looser ones catch a single client trying many accounts, and many clients
    trying one account. Every limit is a window that ends. The per-account limit is counted per hour, as ASVS 5.0
    V6.3.1 asks ("no more than 100 failed attempts per hour"), whatever the number of client addresses.
    """

    per_account_and_client: int = 5
    per_client: int = 30
    per_account: int = 100
    window: timedelta = timedelta(minutes=15)
    account_window: timedelta = timedelta(hours=1)

    def rules(self, email_key: str, client: str) -> list[ThrottleRule]:
        return [
            ThrottleRule(f"account-client:{email_key}|{client}", self.per_account_and_client, self.window),
            ThrottleRule(f"client:{client}", self.per_client, self.window),
            ThrottleRule(f"account:{email_key}", self.per_account, self.account_window),
        ]
