"""The replicas' exchange of what each admitted, so that a caller's quota holds across all of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

# A caller and a slot: the exchange counts each caller's admitted requests per slot of wall-clock time.
SlotKey = tuple[str, int]
# Seconds per slot: slot ``n`` runs from ``n * SLOT_SECONDS`` to ``(n + 1) * SLOT_SECONDS`` since the epoch.
SLOT_SECONDS = 60


@dataclass(frozen=True, slots=True)
class PeerAdmissions:
    """What the other replicas reported, as of one exchange."""

    # Replicas that reported within the liveness period, this one included.
    replicas: int
    # Requests the other replicas together admitted, by caller and slot, for the slots asked about.
    admitted: Mapping[SlotKey, int]


@dataclass(frozen=True, slots=True)
class Retention:
    """How long the exchange keeps totals: every caller's from slot ``kept_from`` on, and those of callers whose
    name starts with ``longer_for`` (API keys, under a daily quota) from ``longer_from`` on."""

    kept_from: int
    longer_for: str
    longer_from: int


class AdmissionExchange(ABC):
    """Shared by every replica; each calls ``exchange`` about once a second, never on a request's path."""

    @abstractmethod
    async def exchange(self, replica: str, admitted: Mapping[SlotKey, int], since_slot: int) -> PeerAdmissions:
        """Record ``admitted`` (this replica's total per caller and slot so far: a later report of the same key
        replaces an earlier one) and that ``replica`` is alive; answer the other replicas' totals for slots from
        ``since_slot`` on, and how many replicas are live."""

    @abstractmethod
    async def history(self, replica: str, since_slot: int, *, exact_from: int, bucket: int) -> Mapping[SlotKey, int]:
        """What every replica but ``replica`` admitted from ``since_slot`` on, whether the replica that admitted it
        is live or gone: read once, by a replica that starts. Summed per caller and slot from ``exact_from`` on,
        and per caller and ``bucket`` slots before it, keyed by the first slot of the bucket (a multiple of
        ``bucket``, perhaps before ``since_slot``): a day of slots would be a large read."""

    @abstractmethod
    async def leave(self, replica: str) -> None:
        """``replica`` stops: the others stop counting it as live at once, not after the liveness period."""

    @abstractmethod
    async def forget(self, retention: Retention) -> None:
        """Drop every replica's totals that ``retention`` no longer keeps, and replicas long gone. (Of the callers
        kept shorter, the slots up to an hour before ``kept_from``: any older, reported late after an exchange failed
        for that long, may stay until ``longer_from`` passes them.)"""
