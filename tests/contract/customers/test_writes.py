"""A customer written together with its history entry, as one atomic write, on both adapters.

The revision check is part of the write: a change lands only on the version it was made from.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.customer_history import CustomerChange
from domain.customers import Customer, CustomerDetails
from domain.errors import Conflict
from domain.values import CustomerId, PersonName
from tests.contract.builders import T0, Backend, make_customer, make_user, read, save_users

C1 = CustomerId("C-1")


async def _history(backend: Backend) -> list[CustomerChange]:
    changes = await read(backend, lambda uow: uow.customer_history.list(C1, 10))
    return [replace(change, id=None) for change in changes]


async def _created(backend: Backend) -> Customer:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    customer = make_customer(C1, "Ada", "Lovelace", by=clerk)
    async with backend.uow.for_single_write() as uow:
        await uow.customers.add_with_history(customer, CustomerChange.created(customer))
        await uow.commit()
    return customer


def _renamed(customer: Customer, surname: str) -> tuple[Customer, CustomerChange, int]:
    read_version = customer.version
    details = CustomerDetails(customer.name, PersonName(surname), customer.email, customer.phone, customer.notes)
    changes = customer.change_details(details, customer.created_by, T0 + timedelta(minutes=1))
    return customer, CustomerChange.updated(customer, changes), read_version


async def test_a_new_customer_is_stored_with_its_creation_entry(backend: Backend) -> None:
    customer = await _created(backend)
    assert await read(backend, lambda uow: uow.customers.get(C1)) == customer
    assert await _history(backend) == [CustomerChange.created(customer)]


async def test_a_taken_id_is_a_conflict_and_writes_no_history(backend: Backend) -> None:
    customer = await _created(backend)
    with pytest.raises(Conflict):
        async with backend.uow.for_single_write() as uow:
            await uow.customers.add_with_history(customer, CustomerChange.created(customer))
    assert len(await _history(backend)) == 1


async def test_a_change_lands_with_its_entry_on_the_version_it_was_made_from(backend: Backend) -> None:
    created = await _created(backend)
    creation = CustomerChange.created(created)
    customer, change, read_version = _renamed(created, "King")
    async with backend.uow.for_single_write() as uow:
        assert await uow.customers.update_with_history(customer, change, read_version=read_version)
        await uow.commit()
    stored = await read(backend, lambda uow: uow.customers.get(C1))
    assert stored == customer
    assert stored is not None
    assert (stored.surname, stored.version) == ("King", 2)
    assert await _history(backend) == [change, creation]


async def test_a_change_made_from_an_older_version_writes_nothing(backend: Backend) -> None:
    created = await _created(backend)
    stale = replace(created)
    first, first_change, version = _renamed(created, "King")
    async with backend.uow.for_single_write() as uow:
        assert await uow.customers.update_with_history(first, first_change, read_version=version)
        await uow.commit()
    # Made from version 1, which is gone now.
    second, second_change, old_version = _renamed(stale, "Byron")
    async with backend.uow.for_single_write() as uow:
        assert not await uow.customers.update_with_history(second, second_change, read_version=old_version)
        await uow.commit()
    stored = await read(backend, lambda uow: uow.customers.get(C1))
    assert stored is not None
    assert stored.surname == "King"
    assert len(await _history(backend)) == 2


async def test_a_change_to_a_deleted_or_recreated_customer_writes_nothing(backend: Backend) -> None:
    created = await _created(backend)
    customer, change, read_version = _renamed(replace(created), "King")
    async with backend.uow() as uow:
        await uow.customers.delete(C1)
        await uow.commit()
    async with backend.uow.for_single_write() as uow:
        assert not await uow.customers.update_with_history(customer, change, read_version=read_version)
    # The same id again, at version 1 again, but created later: not the customer that was read.
    again = replace(created, created_at=T0 + timedelta(hours=1))
    async with backend.uow.for_single_write() as uow:
        await uow.customers.add_with_history(again, CustomerChange.created(again))
        await uow.commit()
    async with backend.uow.for_single_write() as uow:
        assert not await uow.customers.update_with_history(customer, change, read_version=read_version)
        await uow.commit()
    assert await read(backend, lambda uow: uow.customers.get(C1)) == again
    assert len(await _history(backend)) == 2


async def test_inside_a_transaction_the_writes_land_at_commit_and_not_without_it(backend: Backend) -> None:
    created = await _created(backend)
    customer, change, read_version = _renamed(replace(created), "King")
    async with backend.uow() as uow:
        assert await uow.customers.get(C1, for_update=True) == created
        assert await uow.customers.update_with_history(customer, change, read_version=read_version)
        # Leaving without a commit rolls both back.
    assert await read(backend, lambda uow: uow.customers.get(C1)) == created
    assert len(await _history(backend)) == 1
    async with backend.uow() as uow:
        await uow.customers.get(C1, for_update=True)
        assert await uow.customers.update_with_history(customer, change, read_version=read_version)
        await uow.commit()
    assert await read(backend, lambda uow: uow.customers.get(C1)) == customer
    assert len(await _history(backend)) == 2
