"""The orphan sweep: delete stored photo objects that no customer row refers to.

Orphans are what the write-new, commit, delete-old ordering leaves behind when something fails
midway: objects written for an upload whose transaction then failed, and old objects whose deletion
after the commit failed. They are harmless (nothing points at them) and the sweep removes them.

An upload writes its objects before its row commits, so a young object may be referenced a moment
from now: only objects older than the grace period are candidates. The references are looked up
after the listing, batch by batch, so a row committed before the look-up always protects its objects.
The grace period must be longer than any upload can take (minutes; the default is an hour).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.customers.photo_rules import PHOTO_KEY_PREFIX
from application.ports.persistence import UnitOfWorkFactory
from application.ports.photos import PhotoStorage
from application.ports.system import Clock

logger = logging.getLogger(__name__)

DEFAULT_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SweepResult:
    examined: int
    too_young: int
    referenced: int
    deleted: int


class SweepOrphanPhotos:
    """Delete every photo object older than a grace period that no customer row refers to."""

    def __init__(self, uow: UnitOfWorkFactory, storage: PhotoStorage, clock: Clock) -> None:
        self._uow = uow
        self._storage = storage
        self._clock = clock

    async def execute(
        self, older_than: timedelta = DEFAULT_GRACE, *, prefix: str = PHOTO_KEY_PREFIX, batch_size: int = 500
    ) -> SweepResult:
        """Raises ``ServiceUnavailable`` if the storage fails; a later run picks up where this one stopped."""
        if older_than <= timedelta(0):
            raise ValueError("the grace period must be positive, or uploads in flight would be deleted")
        cutoff = self._clock.now() - older_than
        examined = too_young = referenced = deleted = 0
        batch: list[str] = []

        async def flush() -> None:
            nonlocal referenced, deleted
            # Looked up after listing, in a read of its own: a row committed by now protects its objects.
            async with self._uow.for_reading() as uow:
                keep = await uow.customers.referenced_photo_keys(list(batch))
            orphans = [key for key in batch if key not in keep]
            referenced += len(batch) - len(orphans)
            if orphans:
                await self._storage.delete(orphans)
                deleted += len(orphans)
            batch.clear()

        async for stored in self._storage.list_keys(prefix):
            examined += 1
            if stored.last_modified > cutoff:
                too_young += 1
                continue
            batch.append(stored.key)
            if len(batch) >= batch_size:
                await flush()
        if batch:
            await flush()
        result = SweepResult(examined=examined, too_young=too_young, referenced=referenced, deleted=deleted)
        logger.info("photo sweep: %s", result)
        return result
