"""The orphan sweep removes objects no row refers to, once they are older than the grace period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from adapters.photos.memory import InMemoryPhotoStorage
from adapters.photos.sweep import SweepResult, sweep_orphans
from application.photos import JPEG, new_photo_keys
from domain.errors import ServiceUnavailable

from .support import FixedClock

GRACE = timedelta(hours=1)


class References:
    """Stands in for the customers table: which keys some row points at."""

    def __init__(self, *keys: str) -> None:
        self.keys = set(keys)
        self.asked: list[list[str]] = []

    async def __call__(self, candidates: Sequence[str]) -> set[str]:
        self.asked.append(list(candidates))
        return self.keys & set(candidates)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def storage(clock: FixedClock) -> InMemoryPhotoStorage:
    return InMemoryPhotoStorage(clock)


async def put_photo(storage: InMemoryPhotoStorage) -> tuple[str, str]:
    keys = new_photo_keys()
    for key in keys:
        await storage.put(key, b"image", JPEG)
    return keys


async def test_old_orphans_go_and_referenced_or_young_objects_stay(
    storage: InMemoryPhotoStorage, clock: FixedClock
) -> None:
    referenced = await put_photo(storage)
    orphaned = await put_photo(storage)
    await storage.put("other/not-a-photo", b"x", JPEG)
    clock.advance(GRACE + timedelta(minutes=1))
    in_flight = await put_photo(storage)  # written, its row not yet committed

    result = await sweep_orphans(storage, References(*referenced), GRACE, clock.now())

    assert storage.keys == {*referenced, *in_flight, "other/not-a-photo"}
    assert result == SweepResult(examined=6, too_young=2, referenced=2, deleted=2)
    assert not set(orphaned) & storage.keys


async def test_an_object_exactly_at_the_grace_boundary_is_swept(
    storage: InMemoryPhotoStorage, clock: FixedClock
) -> None:
    orphaned = await put_photo(storage)
    clock.advance(GRACE)

    result = await sweep_orphans(storage, References(), GRACE, clock.now())

    assert result.deleted == 2
    assert not set(orphaned) & storage.keys


async def test_references_are_looked_up_in_batches(storage: InMemoryPhotoStorage, clock: FixedClock) -> None:
    for _ in range(5):
        await put_photo(storage)
    clock.advance(GRACE * 2)
    references = References()

    result = await sweep_orphans(storage, references, GRACE, clock.now(), batch_size=4)

    assert [len(batch) for batch in references.asked] == [4, 4, 2]
    assert result.deleted == 10
    assert storage.keys == set()


async def test_nothing_to_sweep_asks_nothing(storage: InMemoryPhotoStorage, clock: FixedClock) -> None:
    references = References()

    result = await sweep_orphans(storage, references, GRACE, clock.now())

    assert result == SweepResult(0, 0, 0, 0)
    assert references.asked == []


async def test_a_failing_store_stops_the_sweep_without_losing_referenced_objects(
    storage: InMemoryPhotoStorage, clock: FixedClock
) -> None:
    referenced = await put_photo(storage)
    await put_photo(storage)
    clock.advance(GRACE * 2)
    storage.fail_next("delete")

    with pytest.raises(ServiceUnavailable):
        await sweep_orphans(storage, References(*referenced), GRACE, clock.now())
    assert set(referenced) <= storage.keys

    result = await sweep_orphans(storage, References(*referenced), GRACE, clock.now())
    assert result.deleted == 2
    assert storage.keys == set(referenced)


async def test_a_grace_period_of_zero_is_refused(storage: InMemoryPhotoStorage, clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="grace"):
        await sweep_orphans(storage, References(), timedelta(0), clock.now())
