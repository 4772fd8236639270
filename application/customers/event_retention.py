"""How long live changes stay resumable: each customer change is kept as an event for the replay window
(``CRM_LIVE_CHANGES_REPLAY_HOURS``), then forgotten.

Run by the hub while streams are open, and by the hourly maintenance (``crm photos sweep``) whether or not anyone
follows: events are written on every customer change, so without the latter a shop nobody follows live would keep
them for ever.
"""

from __future__ import annotations

from datetime import timedelta

from application.ports.customer_events import CustomerEventFeed
from application.ports.system import Clock


class ForgetOldChangeEvents:
    def __init__(self, feed: CustomerEventFeed, clock: Clock, replay_window: timedelta) -> None:
        self._feed = feed
        self._clock = clock
        self.replay_window = replay_window

    async def execute(self) -> int:
        """Forget the events older than the replay window; answers how many."""
        return await self._feed.prune(self._clock.now() - self.replay_window)
