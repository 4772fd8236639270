"""The customer row and the stored photo objects stay consistent when either side fails midway.

The in-memory photo storage fails on command; whatever a failure leaves behind is at worst an
object that no customer refers to, which the orphan sweep removes.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from adapters.photos.memory import InMemoryPhotoStorage
from application.customers.editing import NewCustomer
from application.customers.photo_rules import photo_keys
from domain.errors import NotFound, ServiceUnavailable
from domain.sign_in import Actor
from domain.values import CustomerId
from tests.unit.conftest import Core


def png(color: int = 50) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (color, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


async def setup(core: Core) -> tuple[Actor, InMemoryPhotoStorage]:
    actor = await core.actor(await core.user())
    await core.app.create_customer().execute(actor, NewCustomer("C-1", "Ada", "Lovelace"))
    storage = core.app.photo_storage()
    assert isinstance(storage, InMemoryPhotoStorage)
    return actor, storage


async def referenced(core: Core) -> set[str]:
    async with core.app.adapters.unit_of_work().for_reading() as uow:
        customer = await uow.customers.get(CustomerId("C-1"))
    return set(photo_keys(customer.photo if customer else None))


async def sweep(core: Core, storage: InMemoryPhotoStorage) -> None:
    core.clock.advance(timedelta(hours=2))
    await core.app.sweep_orphan_photos().execute(timedelta(hours=1))


@pytest.mark.parametrize("failing_write", [0, 1], ids=["image write fails", "thumbnail write fails"])
async def test_a_failed_store_write_changes_nothing_and_leaves_nothing(core: Core, failing_write: int) -> None:
    actor, storage = await setup(core)
    original, writes = storage.put, []

    async def put_failing_once(key: str, data: bytes, content_type: str) -> None:
        writes.append(key)
        if len(writes) - 1 == failing_write:
            raise ServiceUnavailable("The photo storage did not answer (simulated).")
        await original(key, data, content_type)

    storage.put = put_failing_once  # type: ignore[method-assign]
    with pytest.raises(ServiceUnavailable):
        await core.app.upload_customer_photo().execute(actor, "C-1", png())
    assert len(writes) == failing_write + 1
    customer = await core.app.get_customer().execute(actor, "C-1")
    assert customer.photo is None and customer.version == 1
    assert storage.keys == set()


async def test_a_failed_database_step_removes_the_new_objects(core: Core) -> None:
    actor, storage = await setup(core)
    # The customer disappears between the objects being written and the row being changed.
    original = storage.put

    async def put_then_lose_the_customer(key: str, data: bytes, content_type: str) -> None:
        await original(key, data, content_type)
        if key.endswith("-thumb"):
            await core.app.delete_customer().execute(actor, "C-1")

    storage.put = put_then_lose_the_customer  # type: ignore[method-assign]
    with pytest.raises(NotFound):
        await core.app.upload_customer_photo().execute(actor, "C-1", png())
    assert storage.keys == set()


async def test_replacing_when_the_old_objects_cannot_be_deleted_keeps_the_new_photo(core: Core) -> None:
    actor, storage = await setup(core)
    first = await core.app.upload_customer_photo().execute(actor, "C-1", png(10))
    storage.fail_next("delete")
    second = await core.app.upload_customer_photo().execute(actor, "C-1", png(200))
    assert second.photo is not None and second.photo != first.photo
    assert await referenced(core) == set(photo_keys(second.photo))
    # The old objects are orphans now; the sweep removes them and keeps the photo in use.
    assert set(photo_keys(first.photo)) <= storage.keys
    await sweep(core, storage)
    assert storage.keys == set(photo_keys(second.photo))


async def test_deleting_a_customer_or_a_photo_while_the_store_is_down_still_succeeds(core: Core) -> None:
    actor, storage = await setup(core)
    with_photo = await core.app.upload_customer_photo().execute(actor, "C-1", png())
    storage.fail_next("delete")
    removed = await core.app.remove_customer_photo().execute(actor, "C-1")
    assert removed.photo is None
    await sweep(core, storage)
    assert storage.keys == set()

    await core.app.upload_customer_photo().execute(actor, "C-1", png())
    # In the trash, the photo stays for a restoration; the sweep leaves it alone.
    await core.app.delete_customer().execute(actor, "C-1")
    await sweep(core, storage)
    assert len(storage.keys) == 2
    admin = await core.actor(await core.user("admin@example.com", admin=True, name="Admin"))
    storage.fail_next("delete")
    await core.app.erase_customer().execute(admin, "C-1")
    with pytest.raises(NotFound):
        await core.app.get_customer().execute(actor, "C-1")
    await sweep(core, storage)
    assert storage.keys == set()
    assert with_photo.photo is not None
