"""The replicas' exchange of what each admitted, so that a caller's quota holds across all of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

# A caller and a slot: the exchange counts each caller's admitted requests per slot of wall-clock time.
SlotKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class PeerAdmissions:
    """What the other replicas reported, as of one exchange."""

    # Replicas that reported within the liveness period, this one included.
    replicas: int
    # Requests the other replicas together admitted, by caller and slot, for the slots asked about.
    admitted: Mapping[SlotKey, int]


class AdmissionExchange(ABC):
    """Shared by every replica; each calls ``exchange`` about once a second, never on a request's path."""

    @abstractmethod
    async def exchange(self, replica: str, admitted: Mapping[SlotKey, int], since_slot: int) -> PeerAdmissions:
        """Record ``admitted`` (this replica's total per caller and slot so far: a later report of the same key
        replaces an earlier one) and that ``replica`` is alive; answer the other live replicas' totals for
        slots from ``since_slot`` on, and how many replicas are live."""

    @abstractmethod
    async def leave(self, replica: str) -> None:
        """``replica`` stops: the others stop counting it as live at once, not after the liveness period."""

    @abstractmethod
    async def forget_before(self, slot: int) -> None:
        """Drop every replica's totals of slots older than ``slot``, and replicas long gone."""
