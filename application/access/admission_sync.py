"""The periodic exchange that shares each caller's quota between the replicas (decision record 0033).

About once a second, off every request's path: report what this process admitted per caller since the last
exchange, and charge the limiter with what the other replicas admitted. A failed exchange is logged and tried
again; meanwhile each replica keeps deciding alone, with the share it had. Before its first exchange a process
reads what every replica, live or gone, admitted within its callers' windows (the daily one of API keys too), so
that a restart or a new pod does not give a caller its quota afresh.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from application.access.limiter import API_KEY_CALLER, Limiter
from application.ports.admissions import SLOT_SECONDS, AdmissionExchange, Retention
from application.ports.system import Clock

logger = logging.getLogger(__name__)

EXCHANGE_SECONDS = 1.0
# The history beyond the burst window is read in quarter hours, each charged from its start: an API key gets back
# at most a quarter hour's worth of its daily quota (1 %) more than slot by slot, for a read 15 times smaller.
HISTORY_BUCKET_SLOTS = 15


class AdmissionSync:
    def __init__(
        self,
        limiter: Limiter,
        exchange: AdmissionExchange,
        clock: Clock,
        *,
        replica: str,
        interval: float = EXCHANGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limiter = limiter
        self._exchange = exchange
        self._clock = clock
        self._replica = replica
        self._interval = interval
        self._monotonic = monotonic
        self._last_success = monotonic()
        self._last_slot: int | None = None
        self._failing = False
        # Whether the history is charged, and the slot it was last tried in.
        self._recalled = False
        self._history_tried: int | None = None
        self._history_failing = False

    def lag(self) -> float:
        """Seconds since the other replicas' admissions were last charged here."""
        return self._monotonic() - self._last_success

    def retention(self, slot: int) -> Retention:
        """The slots a caller's policies can still need at ``slot``: as many as its windows reach into, and one
        more, since a window begins within a slot."""
        burst = slot - math.ceil(self._limiter.burst.window / SLOT_SECONDS) - 1
        daily = slot - math.ceil(self._limiter.daily.window / SLOT_SECONDS) - 1
        return Retention(kept_from=burst, longer_for=API_KEY_CALLER, longer_from=min(burst, daily))

    async def exchange_once(self) -> None:
        seconds = self._clock.now().timestamp()
        slot = int(seconds // SLOT_SECONDS)
        # Until an exchange works, the history is tried before each; then once a slot, so that a history too
        # large to read in time does not hold up the exchange every second.
        if not self._recalled and (self._last_slot is None or self._history_tried != slot):
            await self._recall(slot, seconds - slot * SLOT_SECONDS)
        report = self._limiter.unreported()
        try:
            peers = await self._exchange.exchange(self._replica, report, since_slot=slot - 1)
            if slot != self._last_slot:
                # Once a slot: what no window can need any more goes, here and in the shared store.
                await self._exchange.forget(self.retention(slot))
                self._limiter.forget_idle()
                self._last_slot = slot
        except Exception:
            self._limiter.unreport_failed(report)
            if not self._failing:
                logger.exception("The replicas' exchange of admitted requests failed; each decides alone meanwhile.")
            self._failing = True
            return
        if self._failing:
            logger.warning("The replicas' exchange of admitted requests works again.")
        self._failing = False
        self._limiter.absorb(peers, slot)
        self._last_success = self._monotonic()

    async def _recall(self, slot: int, into_slot: float) -> None:
        """Charge the history of every replica but this one (which has none yet), once."""
        self._history_tried = slot
        try:
            kept = self.retention(slot)
            history = await self._exchange.history(
                self._replica, kept.longer_from, exact_from=kept.kept_from, bucket=HISTORY_BUCKET_SLOTS
            )
        except Exception:
            if not self._history_failing:
                logger.exception("Could not read what the replicas admitted before this one started; tried again.")
            self._history_failing = True
            return
        self._limiter.recall(history, slot, into_slot)
        self._recalled = True

    async def leave(self) -> None:
        """This replica stops: what it admitted since the last exchange is reported (the next process to start
        charges it), and the others take its share at their next exchange."""
        slot = int(self._clock.now().timestamp() // SLOT_SECONDS)
        try:
            await self._exchange.exchange(self._replica, self._limiter.unreported(), since_slot=slot)
            await self._exchange.leave(self._replica)
        except Exception:
            logger.warning(
                "Could not report this replica's last admissions nor that it stops; the others notice within seconds."
            )

    async def run(self) -> None:
        """Exchange until cancelled."""
        while True:
            await self.exchange_once()
            await asyncio.sleep(self._interval)
