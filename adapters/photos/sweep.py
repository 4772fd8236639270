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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.photos import PHOTO_KEY_PREFIX
from application.ports.photos import PhotoStorage

logger = logging.getLogger(__name__)

# Given candidate keys, answer the subset that some customer row still refers to
# (e.g. ``SELECT photo_key, photo_thumbnail_key FROM customers WHERE ... = ANY(:keys)``).
ReferencedKeys = Callable[[Sequence[str]], Awaitable[set[str]]]

DEFAULT_GRACE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SweepResult:
    examined: int
    too_young: int
    referenced: int
    deleted: int


async def sweep_orphans(
    storage: PhotoStorage,
    referenced_keys: ReferencedKeys,
    older_than: timedelta,
    now: datetime,
    *,
    prefix: str = PHOTO_KEY_PREFIX,
    batch_size: int = 500,
) -> SweepResult:
    """Delete every object under ``prefix`` older than ``older_than`` that no row refers to.

    Raises ``ServiceUnavailable`` if the storage fails; a later run picks up where this one stopped.
    """
    if older_than <= timedelta(0):
        raise ValueError("the grace period must be positive, or uploads in flight would be deleted")
    cutoff = now - older_than
    examined = too_young = referenced = deleted = 0
    batch: list[str] = []

    async def flush() -> None:
        nonlocal referenced, deleted
        keep = await referenced_keys(list(batch))
        orphans = [key for key in batch if key not in keep]
        referenced += len(batch) - len(orphans)
        if orphans:
            await storage.delete(orphans)
            deleted += len(orphans)
        batch.clear()

    async for stored in storage.list_keys(prefix):
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
