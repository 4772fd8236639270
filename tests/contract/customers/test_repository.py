"""The customer repository: storage, unique ids, who created and changed a customer, and locks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.ports.persistence import UnitOfWork
from domain.customers import Customer, CustomerDetails, Photo
from domain.errors import Conflict
from domain.users import UserRef
from domain.values import CustomerId, Email, Notes, PersonName, Phone
from tests.contract.builders import (
    T0,
    Backend,
    make_customer,
    make_user,
    race_for_lock,
    read,
    save_customers,
    save_users,
)

DUPLICATE_CUSTOMER = "A customer with this id already exists."


async def _get(backend: Backend, customer_id: str) -> Customer | None:
    return await read(backend, lambda uow: uow.customers.get(CustomerId(customer_id)))


async def test_a_customer_reads_back_as_stored(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    full = make_customer("C-0001", "Ada", "Lovelace", by=clerk, email="ada@example.com")
    full.phone = Phone("+44 20 7946 0000")
    full.notes = Notes("Prefers e-mail.\nLikes engines.")
    full.photo = Photo("photos/abc", "photos/abc-thumb", "image/webp")
    bare = make_customer("C-0002", "Grace", "Hopper", by=clerk)
    await save_customers(backend, full, bare)

    assert await _get(backend, "C-0001") == full
    assert await _get(backend, "C-0002") == bare
    assert await _get(backend, "C-9999") is None


async def test_changes_to_a_customer_are_stored(backend: Backend) -> None:
    creator, editor = make_user("creator@example.com", "Cleo Creator"), make_user("editor@example.com", "Ed Editor")
    await save_users(backend, creator, editor)
    customer = make_customer("C-1", "Ada", "Lovelace", by=creator, email="ada@example.com")
    await save_customers(backend, customer)

    later = T0 + timedelta(minutes=3)
    customer.change_details(
        CustomerDetails(PersonName("Ada"), PersonName("King"), None, Phone("123")), editor.ref, later
    )
    customer.replace_photo(Photo("p/1", "p/1-t", "image/png"), editor.ref, later)
    async with backend.uow() as uow:
        await uow.customers.update(customer)
        await uow.commit()

    stored = await _get(backend, "C-1")
    assert stored == customer
    assert stored is not None
    assert (stored.surname, stored.email, stored.version) == ("King", None, 3)
    assert stored.created_by == UserRef(creator.id, "Cleo Creator")
    assert stored.updated_by == UserRef(editor.id, "Ed Editor")

    customer.replace_photo(None, editor.ref, later)
    async with backend.uow() as uow:
        await uow.customers.update(customer)
        await uow.commit()
    stored = await _get(backend, "C-1")
    assert stored is not None
    assert stored.photo is None


async def test_a_deleted_customer_is_gone(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    await save_customers(backend, make_customer("C-1", "Ada", "Lovelace", by=clerk))
    async with backend.uow() as uow:
        await uow.customers.delete(CustomerId("C-1"))
        await uow.commit()
    assert await _get(backend, "C-1") is None
    # The id is free again.
    await save_customers(backend, make_customer("C-1", "Grace", "Hopper", by=clerk))
    assert (await _get(backend, "C-1")) is not None


async def test_a_customer_id_is_unique(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    await save_customers(backend, make_customer("C-1", "Ada", "Lovelace", by=clerk))
    with pytest.raises(Conflict) as raised:
        await save_customers(backend, make_customer("C-1", "Grace", "Hopper", by=clerk))
    assert raised.value.detail == DUPLICATE_CUSTOMER
    stored = await _get(backend, "C-1")
    assert stored is not None
    assert stored.name == "Ada"
    # Ids are compared exactly: another case is another id.
    await save_customers(backend, make_customer("c-1", "Grace", "Hopper", by=clerk))
    assert await _get(backend, "c-1") is not None


async def test_customers_show_their_users_current_names_even_once_deleted(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    await save_customers(backend, make_customer("C-1", "Ada", "Lovelace", by=clerk))

    clerk.name = PersonName("Clara Renamed")
    clerk.email = Email("clara@example.com")
    clerk.delete(T0 + timedelta(days=1))
    async with backend.uow() as uow:
        await uow.users.update(clerk)
        await uow.commit()

    stored = await _get(backend, "C-1")
    assert stored is not None
    assert stored.created_by == UserRef(clerk.id, "Clara Renamed")
    assert stored.updated_by == UserRef(clerk.id, "Clara Renamed")


async def test_a_customer_read_for_update_is_locked_until_commit(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    await save_customers(backend, make_customer("C-1", "Ada", "Lovelace", by=clerk))

    async def lock(uow: UnitOfWork) -> Customer | None:
        return await uow.customers.get(CustomerId("C-1"), for_update=True)

    async def change(uow: UnitOfWork, customer: Customer) -> None:
        customer.change_details(
            CustomerDetails(PersonName("Ada"), PersonName("King")), clerk.ref, T0 + timedelta(minutes=1)
        )
        await uow.customers.update(customer)

    race = await race_for_lock(backend, lock, change)
    assert race.events == ["first locked", "first commits", "second locked"]
    assert race.seen["second"].surname == "King"
    assert race.seen["second"].version == 2


async def test_referenced_photo_keys_are_those_of_some_customers_photo_or_thumbnail(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    with_photo = make_customer("C-1", "Ada", "Lovelace", by=clerk)
    with_photo.photo = Photo("photos/aaa", "photos/aaa-thumb", "image/jpeg")
    other = make_customer("C-2", "Grace", "Hopper", by=clerk)
    other.photo = Photo("photos/bbb", "photos/bbb-thumb", "image/png")
    await save_customers(backend, with_photo, other, make_customer("C-3", "Alan", "Turing", by=clerk))

    async def referenced(keys: list[str]) -> set[str]:
        return await read(backend, lambda uow: uow.customers.referenced_photo_keys(keys))

    candidates = ["photos/aaa", "photos/bbb-thumb", "photos/ccc", "photos/aaa-thumb-thumb", "PHOTOS/AAA"]
    assert await referenced(candidates) == {"photos/aaa", "photos/bbb-thumb"}
    assert await referenced([]) == set()
    assert await referenced(["photos/ccc"]) == set()

    # Once the photo is removed, its keys are no longer referenced.
    with_photo.replace_photo(None, clerk.ref, T0 + timedelta(minutes=1))
    async with backend.uow() as uow:
        await uow.customers.update(with_photo)
        await uow.commit()
    assert await referenced(["photos/aaa", "photos/aaa-thumb", "photos/bbb"]) == {"photos/bbb"}


async def test_a_reading_unit_of_work_gets_the_same_customer(backend: Backend) -> None:
    clerk = make_user("reading-clerk@example.com", "Rita Reader")
    await save_users(backend, clerk)
    customer = make_customer("R-1", "Rosa", "Reader", by=clerk, email="rosa@example.com")
    await save_customers(backend, customer)
    async with backend.uow.for_reading() as uow:
        assert await uow.customers.get(CustomerId("R-1")) == customer
        assert await uow.customers.get(CustomerId("R-2")) is None
