"""How often a caller may call: named policies of a quota per window, counted by GCRA.

GCRA (the generic cell rate algorithm) is a token bucket kept as one number per caller and policy: the
*theoretical arrival time* (``tat``), the moment at which the caller's quota will be whole again. Each request
moves it ``window / quota`` seconds later; a request is admitted while that leaves ``tat`` at most one window
ahead of now. So a caller that has waited may burst up to the whole quota, and then gets one request per
``window / quota`` seconds, which is the "smooth" policy of the contract (docs/api.md, "Fair use").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

# Float arithmetic on seconds: a request exactly on the boundary is admitted.
_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class Policy:
    """``quota`` requests per ``window`` seconds, named as in the ``RateLimit-Policy`` header."""

    name: str
    quota: int
    window: int
    # Seconds between two requests at the sustained rate; what one request costs. Kept, not computed per request.
    interval: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "interval", self.window / self.quota)

    def header_item(self) -> str:
        """This policy as a member of ``RateLimit-Policy`` (draft-ietf-httpapi-ratelimit-headers-11)."""
        return f'"{self.name}";q={self.quota};w={self.window}'


class Standing(NamedTuple):
    """Where a caller stands under one policy after a decision: what is left, and when it is whole again.

    A tuple rather than a frozen dataclass: one or two are made on every request, and a tuple is made fastest."""

    policy: Policy
    remaining: int
    # Seconds until the quota is whole again (the header's ``t``).
    reset: int
    # Seconds until the next request would be admitted; 0 when one would be now.
    retry_after: int

    def header_item(self) -> str:
        """This standing as a member of ``RateLimit``."""
        return f'"{self.policy.name}";r={self.remaining};t={self.reset}'


def standing(policy: Policy, tat: float, now: float) -> Standing:
    """Where a caller whose theoretical arrival time is ``tat`` stands at ``now``.

    Written for speed (it runs on every admitted request): ``int`` is ``floor`` here, since a negative room is
    counted as none anyway."""
    debt = tat - now
    if debt <= 0.0:
        return Standing(policy, policy.quota, 0, 0)
    remaining = int((policy.window - debt) / policy.interval + _SLACK)
    wait = debt + policy.interval - policy.window
    return Standing(
        policy,
        remaining if remaining > 0 else 0,
        math.ceil(debt - _SLACK),
        math.ceil(wait - _SLACK) if wait > 0.0 else 0,
    )


def admits(policy: Policy, tat: float, now: float) -> bool:
    """Whether one more request fits at ``now``."""
    return max(tat, now) + policy.interval - now <= policy.window + _SLACK


def charged(policy: Policy, tat: float, now: float, requests: int = 1) -> float:
    """The theoretical arrival time after ``requests`` more requests at ``now`` (admitted here or elsewhere)."""
    return max(tat, now) + requests * policy.interval


def taken(policy: Policy, tat: float, now: float) -> float | None:
    """The theoretical arrival time after one more request at ``now``, or None if it does not fit: ``admits`` and
    ``charged`` in one step, for the admission path."""
    after = (tat if tat > now else now) + policy.interval
    return after if after - now <= policy.window + _SLACK else None


def is_whole(tat: float, now: float) -> bool:
    """Nothing is owed: the caller's state holds no information and may be forgotten."""
    return tat <= now
