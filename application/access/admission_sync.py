"""The periodic exchange that shares each caller's quota between the replicas (decision record 0033).

About once a second, off every request's path: report what this process admitted per caller since the last
exchange, and charge the limiter with what the other replicas admitted. A failed exchange is logged and tried
again; meanwhile each replica keeps deciding alone, with the share it had.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from application.access.limiter import Limiter
from application.ports.admissions import AdmissionExchange
from application.ports.system import Clock

logger = logging.getLogger(__name__)

# Admissions are counted per slot of wall-clock time; two slots back are enough for any window it bounds.
SLOT_SECONDS = 60
EXCHANGE_SECONDS = 1.0


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

    def lag(self) -> float:
        """Seconds since the other replicas' admissions were last charged here."""
        return self._monotonic() - self._last_success

    async def exchange_once(self) -> None:
        slot = int(self._clock.now().timestamp() // SLOT_SECONDS)
        report = self._limiter.unreported()
        try:
            peers = await self._exchange.exchange(self._replica, report, since_slot=slot - 1)
            if slot != self._last_slot:
                # Once a slot: what no window can need any more goes, here and in the shared store.
                await self._exchange.forget_before(slot - 2)
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

    async def leave(self) -> None:
        """This replica stops: the others take its share at their next exchange."""
        try:
            await self._exchange.leave(self._replica)
        except Exception:
            logger.warning("Could not tell the other replicas that this one stops; they notice within seconds.")

    async def run(self) -> None:
        """Exchange until cancelled."""
        while True:
            await self.exchange_once()
            await asyncio.sleep(self._interval)
