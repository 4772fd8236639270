"""The customer events that live changes follow: read in commit order, and a wake-up when new ones commit."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from domain.customer_events import CustomerEvent, EventPosition


class CustomerEventFeed(ABC):
    """Every customer change as an event, in commit order, shared by every replica.

    Each call stands alone (no unit of work) and holds a database connection only while it runs, so that
    open streams cost none while they wait."""

    @abstractmethod
    async def latest(self) -> EventPosition:
        """The position of the last committed event (``BEGINNING`` when there is none)."""

    @abstractmethod
    async def after(self, position: EventPosition, limit: int) -> list[CustomerEvent]:
        """At most ``limit`` events strictly after ``position``, in commit order. Once an event is returned,
        no event that commits later comes before it."""

    @abstractmethod
    async def knows(self, position: EventPosition) -> bool:
        """Whether a replay may start at ``position``: it was given out and nothing after it was pruned since."""

    @abstractmethod
    async def prune(self, before: datetime) -> int:
        """Forget the events committed before ``before`` (all but the last): positions from then on get a reset
        instead. Answers how many events were forgotten."""

    @abstractmethod
    async def wait(self, seconds: float) -> None:
        """Return when an event may have committed (anywhere), or after ``seconds`` at most."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release what waiting holds (a listening connection) until the next ``wait``: the hub calls it when it
        stops, and at shutdown."""
