"""Fair use in one process: each caller's GCRA state, decided in memory with no I/O on a request's path.

Several replicas share a caller's quota through ``AdmissionSync`` (``admission_sync.py``): about once a second
each reports what it admitted per caller and charges here what the others admitted (``absorb``). Between two
exchanges a replica does not know what the others admit, so while more than one replica is live each may admit
at most its share of what the caller had left at the last exchange (``remaining / replicas``): a burst spread
round-robin over the replicas then gets the quota, not the quota once per replica, and a caller that sticks to
one replica still gets the rest one exchange later (decision record 0033). A process that starts is first charged
with what every replica admitted within its callers' windows (``recall``), so that a quota survives a restart.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from application.ports.admissions import SLOT_SECONDS, PeerAdmissions, SlotKey
from domain.rate_limits import Policy, Standing, admits, charged, is_whole, standing, taken

# Callers are named by kind, so that a user id, a key id and an address never meet.
API_KEY_CALLER = "key:"
USER_CALLER = "user:"
ADDRESS_CALLER = "address:"
# Callers kept per process at most; past it the idle are forgotten, then the oldest.
MAX_CALLERS = 100_000


class Verdict(NamedTuple):
    """The decision on one request, with what the ``RateLimit`` header says about the caller (a tuple: one is made
    on every request)."""

    admitted: bool
    standings: tuple[Standing, ...]
    # When refused: the policies that refused it, and the seconds to wait.
    violated: tuple[str, ...] = ()
    retry_after: int = 0


class Decisions:
    """What the limiter decided, counted for the metrics, which read it when scraped: nothing else per request."""

    __slots__ = ("admitted", "admitted_daily", "refusals")

    def __init__(self) -> None:
        self.admitted = 0
        # Admitted requests of API keys, which count under the daily policy as well.
        self.admitted_daily = 0
        self.refusals: Counter[str] = Counter()

    def refused(self, policies: Iterable[str]) -> None:
        self.refusals.update(policies)


class _Caller:
    __slots__ = ("burst", "count", "daily", "generation", "share", "slot", "spent")

    def __init__(self, now: float, daily: bool) -> None:
        self.burst = now  # theoretical arrival times (domain.rate_limits): whole now
        self.daily: float | None = now if daily else None
        self.slot = -1  # the slot ``count`` counts in
        self.count = 0
        self.generation = -1  # the exchange ``spent`` and ``share`` belong to
        self.spent = 0
        self.share = 0


class Limiter:
    """``burst`` for every caller, and ``daily`` as well for API keys."""

    def __init__(
        self,
        burst: Policy,
        daily: Policy,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = MAX_CALLERS,
    ) -> None:
        self.burst = burst
        self.daily = daily
        self._clock = clock
        self._max_callers = max_callers
        self._callers: dict[str, _Caller] = {}
        self.replicas = 1
        self.slot = 0
        self._generation = 0
        # This replica's totals per caller and slot that changed since the last report.
        self._unreported: dict[SlotKey, int] = {}
        # The other replicas' totals already charged, and the slot from which on exchanges charged them all.
        self._charged: dict[SlotKey, int] = {}
        self._exchanged_from: int | None = None
        self.decisions = Decisions()

    def admit(self, caller: str) -> Verdict:
        """Count one request of ``caller`` (a name made with the ``*_CALLER`` prefixes), or refuse it.

        The admitted path runs on every request: each policy is tried and charged in one step (``taken``), and
        only a refusal works out why."""
        now = self._clock()
        state = self._callers.get(caller) or self._remember(caller, now)
        burst = taken(self.burst, state.burst, now)
        daily = state.daily
        if daily is not None:
            daily = taken(self.daily, daily, now)
        if (
            burst is None
            or (daily is None and state.daily is not None)
            or (self.replicas > 1 and self._over_share(state, now))
        ):
            return self._refusal(state, now)
        state.burst = burst
        state.daily = daily
        state.spent += 1
        if state.slot != self.slot:
            state.slot, state.count = self.slot, 0
        state.count += 1
        self._unreported[caller, state.slot] = state.count
        self.decisions.admitted += 1
        if daily is None:
            return Verdict(True, (self._burst_standing(state, burst, now),))
        self.decisions.admitted_daily += 1
        return Verdict(True, (self._burst_standing(state, burst, now), standing(self.daily, daily, now)))

    def _refusal(self, state: _Caller, now: float) -> Verdict:
        violated: list[str] = []
        wait = 0.0
        if not admits(self.burst, state.burst, now):
            violated.append(self.burst.name)
            wait = standing(self.burst, state.burst, now).retry_after
        elif self.replicas > 1 and self._over_share(state, now):
            # Its share of this exchange is spent: the next exchange tells what the others admitted.
            violated.append(self.burst.name)
            wait = 1
        if state.daily is not None and not admits(self.daily, state.daily, now):
            violated.append(self.daily.name)
            wait = max(wait, standing(self.daily, state.daily, now).retry_after)
        self.decisions.refused(violated)
        return Verdict(False, self._standings(state, now), tuple(violated), max(math.ceil(wait), 1))

    def _over_share(self, state: _Caller, now: float) -> bool:
        if state.generation != self._generation:
            state.generation, state.spent = self._generation, 0
            left = standing(self.burst, state.burst, now).remaining
            state.share = max(1, math.ceil(left / self.replicas))
        return state.spent >= state.share

    def _standings(self, state: _Caller, now: float) -> tuple[Standing, ...]:
        burst = self._burst_standing(state, state.burst, now)
        if state.daily is None:
            return (burst,)
        return burst, standing(self.daily, state.daily, now)

    def _burst_standing(self, state: _Caller, tat: float, now: float) -> Standing:
        burst = standing(self.burst, tat, now)
        if self.replicas > 1 and state.generation == self._generation:
            left = max(state.share - state.spent, 0)
            if left < burst.remaining:
                return Standing(burst.policy, left, burst.reset, burst.retry_after)
        return burst

    def _remember(self, caller: str, now: float) -> _Caller:
        if len(self._callers) >= self._max_callers:
            self.forget_idle()
        if len(self._callers) >= self._max_callers:
            # Still full of callers in debt: forget the oldest quarter rather than grow without bound.
            for name in list(self._callers)[: self._max_callers // 4]:
                del self._callers[name]
        state = _Caller(now, daily=caller.startswith(API_KEY_CALLER))
        self._callers[caller] = state
        return state

    def forget_idle(self) -> None:
        """Forget the callers whose quotas are whole again: their state says nothing any more."""
        now = self._clock()
        idle = [
            name
            for name, state in self._callers.items()
            if is_whole(state.burst, now) and (state.daily is None or is_whole(state.daily, now))
        ]
        for name in idle:
            del self._callers[name]

    def unreported(self) -> dict[SlotKey, int]:
        """This replica's totals changed since the last call, to report to the others."""
        report, self._unreported = self._unreported, {}
        return report

    def unreport_failed(self, report: Mapping[SlotKey, int]) -> None:
        """A report that did not reach the others goes out with the next one (newer totals win)."""
        for key, total in report.items():
            self._unreported.setdefault(key, total)

    def absorb(self, peers: PeerAdmissions, slot: int) -> None:
        """Charge what the other replicas admitted since the last exchange; ``slot`` is the current slot."""
        now = self._clock()
        self.replicas = max(peers.replicas, 1)
        self.slot = slot
        if self._exchanged_from is None:
            self._exchanged_from = slot - 1
        self._generation += 1
        for key, total in peers.admitted.items():
            new = total - self._charged.get(key, 0)
            if new <= 0:
                continue
            self._charged[key] = total
            caller = key[0]
            state = self._callers.get(caller) or self._remember(caller, now)
            state.burst = charged(self.burst, state.burst, now, new)
            if state.daily is not None:
                state.daily = charged(self.daily, state.daily, now, new)
        for key in [key for key in self._charged if key[1] < slot - 1]:
            del self._charged[key]

    def recall(self, history: Mapping[SlotKey, int], slot: int, into_slot: float) -> None:
        """Charge what the replicas admitted before this one exchanged: slot by slot in time order, each as if
        admitted at its slot's start, so that what has recovered since is not charged again. ``slot`` is the current
        slot, ``into_slot`` the seconds since it began. The daily policy counts every slot, the burst policy those its
        window reaches. The current and the previous slot are left to ``absorb``, which charges them as of now, as
        it always has: as of their start, a 10-s window would give back at once what a stopping replica admitted
        in its last seconds. Read after exchanges (the first read failed), the slots they charged are left out."""
        now = self._clock()
        # A slot that began before this ended before the burst window: the burst policy has forgotten it.
        burst_from = now - self.burst.window - SLOT_SECONDS
        for key in sorted(history, key=lambda key: key[1]):
            caller, at = key
            if self._exchanged_from is not None and at >= self._exchanged_from:
                continue
            if at >= slot - 1:
                continue
            # A slot ahead of this one (another replica's clock runs ahead) is this one.
            start = now - into_slot - max(slot - at, 0) * SLOT_SECONDS
            in_burst = start > burst_from
            if not in_burst and not caller.startswith(API_KEY_CALLER):
                continue
            # Remembered as of the slot's start: whole then, so nothing is charged twice.
            state = self._callers.get(caller) or self._remember(caller, start)
            if in_burst:
                state.burst = charged(self.burst, state.burst, start, history[key])
            if state.daily is not None:
                state.daily = charged(self.daily, state.daily, start, history[key])
        self.forget_idle()

    @property
    def callers(self) -> int:
        return len(self._callers)
