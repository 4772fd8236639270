"""The orphan sweep, a use case on the ports: objects no row refers to go once older than the grace period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import uuid4

import pytest

from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.photos.memory import InMemoryPhotoStorage
from application.customers.photo_rules import JPEG, new_photo_keys
from application.customers.photo_sweep import SweepOrphanPhotos, SweepResult
from domain.customers import Photo
from domain.errors import ServiceUnavailable
from tests.contract.builders import make_customer, make_user

from .support import FixedClock

GRACE = timedelta(hours=1)


class Shop:
    """The sweep on in-memory customers and photo storage; ``refer`` stores a customer pointing at keys."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.storage = InMemoryPhotoStorage(clock)
        self.uow = InMemoryUnitOfWorkFactory(InMemoryStore())
        self.sweep = SweepOrphanPhotos(self.uow, self.storage, clock)
        self.deleted_batches: list[int] = []
        delete = self.storage.delete

        async def counted_delete(keys: Sequence[str]) -> None:
            self.deleted_batches.append(len(keys))
            await delete(keys)

        self.storage.delete = counted_delete  # type: ignore[method-assign]

    async def refer(self, keys: tuple[str, str]) -> None:
        clerk = make_user(f"clerk-{uuid4().hex}@example.com")
        customer = make_customer(f"C-{uuid4().hex[:8]}", "Ada", "Lovelace", by=clerk)
        customer.photo = Photo(keys[0], keys[1], JPEG)
        async with self.uow() as uow:
            await uow.users.add(clerk)
            await uow.customers.add(customer)
            await uow.commit()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def shop(clock: FixedClock) -> Shop:
    return Shop(clock)


async def put_photo(storage: InMemoryPhotoStorage) -> tuple[str, str]:
    keys = new_photo_keys()
    for key in keys:
        await storage.put(key, b"image", JPEG)
    return keys


async def test_old_orphans_go_and_referenced_or_young_objects_stay(shop: Shop, clock: FixedClock) -> None:
    referenced = await put_photo(shop.storage)
    await shop.refer(referenced)
    orphaned = await put_photo(shop.storage)
    await shop.storage.put("other/not-a-photo", b"x", JPEG)
    clock.advance(GRACE + timedelta(minutes=1))
    in_flight = await put_photo(shop.storage)  # written, its row not yet committed

    result = await shop.sweep.execute(GRACE)

    assert shop.storage.keys == {*referenced, *in_flight, "other/not-a-photo"}
    assert result == SweepResult(examined=6, too_young=2, referenced=2, deleted=2)
    assert not set(orphaned) & shop.storage.keys


async def test_an_object_exactly_at_the_grace_boundary_is_swept(shop: Shop, clock: FixedClock) -> None:
    orphaned = await put_photo(shop.storage)
    clock.advance(GRACE)

    result = await shop.sweep.execute(GRACE)

    assert result.deleted == 2
    assert not set(orphaned) & shop.storage.keys


async def test_objects_are_swept_in_batches(shop: Shop, clock: FixedClock) -> None:
    for _ in range(5):
        await put_photo(shop.storage)
    clock.advance(GRACE * 2)

    result = await shop.sweep.execute(GRACE, batch_size=4)

    assert shop.deleted_batches == [4, 4, 2]
    assert result.deleted == 10
    assert shop.storage.keys == set()


async def test_nothing_to_sweep_deletes_nothing(shop: Shop) -> None:
    result = await shop.sweep.execute(GRACE)

    assert result == SweepResult(0, 0, 0, 0)
    assert shop.deleted_batches == []


async def test_a_failing_store_stops_the_sweep_without_losing_referenced_objects(shop: Shop, clock: FixedClock) -> None:
    referenced = await put_photo(shop.storage)
    await shop.refer(referenced)
    await put_photo(shop.storage)
    clock.advance(GRACE * 2)
    shop.storage.fail_next("delete")

    with pytest.raises(ServiceUnavailable):
        await shop.sweep.execute(GRACE)
    assert set(referenced) <= shop.storage.keys

    result = await shop.sweep.execute(GRACE)
    assert result.deleted == 2
    assert shop.storage.keys == set(referenced)


async def test_a_grace_period_of_zero_is_refused(shop: Shop) -> None:
    with pytest.raises(ValueError, match="grace"):
        await shop.sweep.execute(timedelta(0))
