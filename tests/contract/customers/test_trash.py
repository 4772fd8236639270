"""The trash and erasure, on every adapter: what a trashed customer hides, keeps and gives back."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from adapters.photos.memory import InMemoryPhotoStorage
from application.customers.erasure import EraseCustomer
from application.customers.trash import PurgeTrash
from application.ports.persistence import CustomerListQuery
from domain.customer_history import CustomerChange
from domain.customers import Photo
from domain.errors import Conflict
from domain.sign_in import Actor
from domain.users import UserRef
from domain.values import CustomerId
from tests.contract.builders import T0, Backend, make_customer, make_user, read, save_customers, save_users
from tests.support.clock import ManualClock

C1 = CustomerId("C-1")


async def _trash(backend: Backend, customer_id: CustomerId, by: UserRef, at: datetime) -> None:
    async with backend.uow() as uow:
        await uow.customers.move_to_trash(customer_id, by, at)
        await uow.commit()


async def test_a_trashed_customer_is_hidden_but_keeps_its_id_and_photo(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    ada = make_customer("C-1", "Ada", "Lovelace", by=clerk)
    ada.photo = Photo("photos/a", "photos/a-thumb", "image/webp")
    await save_customers(backend, ada, make_customer("C-2", "Grace", "Hopper", by=clerk))
    await _trash(backend, C1, clerk.ref, T0 + timedelta(minutes=1))

    assert await read(backend, lambda uow: uow.customers.get(C1)) is None
    listed = await read(backend, lambda uow: uow.customers.list(CustomerListQuery(limit=10, search="lovelace")))
    assert listed == []
    everyone = await read(backend, lambda uow: uow.customers.list(CustomerListQuery(limit=10)))
    assert [customer.id for customer in everyone] == ["C-2"]
    assert await read(backend, lambda uow: uow.customers.get_many([C1, CustomerId("C-2")])) == everyone
    assert await read(backend, lambda uow: uow.customers.trashed_among([C1, CustomerId("C-2")])) == {C1}
    # Its photo objects stay referenced, so the orphan sweep leaves them for a restoration.
    keys = await read(backend, lambda uow: uow.customers.referenced_photo_keys(["photos/a", "photos/b"]))
    assert keys == {"photos/a"}
    with pytest.raises(Conflict):
        await save_customers(backend, make_customer("C-1", "Other", "Person", by=clerk))

    trashed = await read(backend, lambda uow: uow.customers.get_trashed(C1))
    assert trashed is not None
    assert trashed.customer == ada
    assert (trashed.deleted_at, trashed.deleted_by) == (T0 + timedelta(minutes=1), clerk.ref)


async def test_a_restored_customer_comes_back_as_it_was(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    ada = make_customer("C-1", "Ada", "Lovelace", by=clerk, email="ada@example.com")
    ada.photo = Photo("photos/a", "photos/a-thumb", "image/webp")
    await save_customers(backend, ada)
    await _trash(backend, C1, clerk.ref, T0 + timedelta(minutes=1))

    async with backend.uow() as uow:
        trashed = await uow.customers.get_trashed(C1, for_update=True)
        assert trashed is not None
        customer = trashed.customer
        customer.restore(clerk.ref, T0 + timedelta(minutes=2))
        await uow.customers.restore(customer)
        await uow.commit()

    back = await read(backend, lambda uow: uow.customers.get(C1))
    assert back == customer
    assert back is not None
    assert (back.version, back.photo, back.email) == (2, ada.photo, "ada@example.com")
    assert await read(backend, lambda uow: uow.customers.get_trashed(C1)) is None


async def test_the_trash_pages_newest_first(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    ids = [f"C-{n}" for n in range(5)]
    await save_customers(backend, *(make_customer(i, "Ada", "Lovelace", by=clerk) for i in ids))
    for n, customer_id in enumerate(ids):
        # Two pairs share a time: ties go by id, descending.
        await _trash(backend, CustomerId(customer_id), clerk.ref, T0 + timedelta(minutes=n // 2))
    first = await read(backend, lambda uow: uow.customers.list_trash(3))
    assert [trashed.customer.id for trashed in first] == ["C-4", "C-3", "C-2"]
    last = first[-1]
    rest = await read(backend, lambda uow: uow.customers.list_trash(3, (last.deleted_at, last.customer.id)))
    assert [trashed.customer.id for trashed in rest] == ["C-1", "C-0"]


async def test_the_purge_removes_only_what_was_trashed_before_the_cutoff(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    old = make_customer("C-old", "Ada", "Lovelace", by=clerk)
    old.photo = Photo("photos/old", "photos/old-thumb", "image/webp")
    await save_customers(
        backend, old, make_customer("C-new", "Grace", "Hopper", by=clerk), make_customer("C-live", "A", "B", by=clerk)
    )
    await _trash(backend, CustomerId("C-old"), clerk.ref, T0)
    await _trash(backend, CustomerId("C-new"), clerk.ref, T0 + timedelta(days=10))

    clock = ManualClock(T0 + timedelta(days=31))
    storage = InMemoryPhotoStorage()
    await storage.put("photos/old", b"x", "image/webp")
    await storage.put("photos/old-thumb", b"x", "image/webp")
    purge = PurgeTrash(backend.uow, storage, clock, timedelta(days=30))
    assert await purge.execute(batch_size=1) == 1
    assert storage.keys == set()
    remaining = await read(backend, lambda uow: uow.customers.list_trash(10))
    assert [trashed.customer.id for trashed in remaining] == ["C-new"]
    assert await read(backend, lambda uow: uow.customers.get(CustomerId("C-live"))) is not None
    # The purged id is free again.
    await save_customers(backend, make_customer("C-old", "New", "Customer", by=clerk))


async def test_erasure_leaves_one_erased_entry_and_nothing_personal(backend: Backend) -> None:
    admin = make_user("admin@example.com", "Alice Admin", is_admin=True)
    await save_users(backend, admin)
    ada = make_customer("C-1", "Ada", "Lovelace", by=admin, email="ada@example.com")
    await save_customers(backend, ada)
    async with backend.uow() as uow:
        await uow.customer_history.record(CustomerChange.created(ada))
        await uow.commit()
    await _trash(backend, C1, admin.ref, T0 + timedelta(minutes=1))

    actor = Actor(admin.id, admin.name, True, uuid4())
    clock = ManualClock(T0 + timedelta(minutes=2))
    await EraseCustomer(backend.uow, InMemoryPhotoStorage(), clock).execute(actor, "C-1")

    assert await read(backend, lambda uow: uow.customers.get_trashed(C1)) is None
    history = await read(backend, lambda uow: uow.customer_history.list(C1, 10))
    assert [(change.kind, change.by, change.at, change.changes) for change in history] == [
        ("erased", admin.ref, T0 + timedelta(minutes=2), ())
    ]
