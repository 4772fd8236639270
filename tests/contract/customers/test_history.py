"""The customer history repository: changes read back as recorded, newest first, in keyset pages,
with the actor's current name; recorded only when the unit of work commits; kept after the customer goes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.customer_history import PHOTO_FIELD, PHOTO_PRESENT, CustomerChange, FieldChange
from domain.customers import CustomerDetails, Photo
from domain.users import User, UserRef
from domain.values import CustomerId, Email, Notes, PersonName
from tests.contract.builders import T0, Backend, make_customer, make_user, read, save_users

C1 = CustomerId("C-1")


async def _record(backend: Backend, *changes: CustomerChange) -> None:
    async with backend.uow() as uow:
        for change in changes:
            await uow.customer_history.record(change)
        await uow.commit()


async def _history(
    backend: Backend, customer_id: str = C1, limit: int = 100, after: tuple[datetime, int] | None = None
) -> list[CustomerChange]:
    return await read(backend, lambda uow: uow.customer_history.list(CustomerId(customer_id), limit, after))


def _without_ids(changes: list[CustomerChange]) -> list[CustomerChange]:
    return [replace(change, id=None) for change in changes]


def _lifecycle(clerk: User, editor: User) -> list[CustomerChange]:
    """A customer's whole life, oldest first: every kind of change, with values that must survive storage."""
    customer = make_customer(C1, "Zoë", "Ångström", by=clerk, email="zoe@example.com")
    created = CustomerChange.created(customer)
    changes = customer.change_details(
        CustomerDetails(PersonName("Zoë"), PersonName("King"), None, None, Notes('Line one\nLine "two" \\ ✓')),
        editor.ref,
        T0 + timedelta(minutes=1),
    )
    updated = CustomerChange.updated(customer, changes)
    previous = customer.replace_photo(
        Photo("photos/a", "photos/a-thumb", "image/png"), clerk.ref, T0 + timedelta(days=2)
    )
    photo = CustomerChange.photo_changed(customer, previous)
    deleted = CustomerChange.deleted(customer.id, editor.ref, T0 + timedelta(days=3))
    return [created, updated, photo, deleted]


async def test_changes_read_back_as_recorded_newest_first(backend: Backend) -> None:
    clerk, editor = make_user("clerk@example.com", "Clara Clerk"), make_user("editor@example.com", "Ed Editor")
    await save_users(backend, clerk, editor)
    lifecycle = _lifecycle(clerk, editor)
    for change in lifecycle:
        await _record(backend, change)

    history = await _history(backend)

    assert _without_ids(history) == list(reversed(lifecycle))
    assert [change.kind for change in history] == ["deleted", "photo_changed", "updated", "created"]
    assert history[2].changes == (
        FieldChange("surname", "Ångström", "King"),
        FieldChange("email", "zoe@example.com", None),
        FieldChange("notes", None, 'Line one\nLine "two" \\ ✓'),
    )
    assert history[1].changes == (FieldChange(PHOTO_FIELD, None, PHOTO_PRESENT),)
    assert history[3].changes == (
        FieldChange("name", None, "Zoë"),
        FieldChange("surname", None, "Ångström"),
        FieldChange("email", None, "zoe@example.com"),
    )
    assert history[0].changes == ()
    assert all(change.at.tzinfo is not None for change in history)
    ids = [change.id for change in history]
    assert all(isinstance(change_id, int) for change_id in ids)
    assert len(set(ids)) == len(ids)


async def test_changes_at_the_same_time_read_latest_recorded_first(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    customer = make_customer(C1, "Ada", "Lovelace", by=clerk)
    notes = [
        CustomerChange(C1, "updated", clerk.ref, T0, (FieldChange("notes", str(number), str(number + 1)),))
        for number in range(5)
    ]
    await _record(backend, CustomerChange.created(customer), *notes[:2])
    await _record(backend, *notes[2:])

    history = await _history(backend)

    assert _without_ids(history) == [*reversed(notes), CustomerChange.created(customer)]


async def test_actors_show_their_current_names_even_once_deleted(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    await _record(backend, CustomerChange.created(make_customer(C1, "Ada", "Lovelace", by=clerk)))

    clerk.name = PersonName("Clara Renamed")
    clerk.email = Email("clara@example.com")
    clerk.delete(T0 + timedelta(days=1))
    async with backend.uow() as uow:
        await uow.users.update(clerk)
        await uow.commit()

    [created] = await _history(backend)
    assert created.by == UserRef(clerk.id, "Clara Renamed")


async def test_pages_follow_each_other_without_gaps_or_repeats(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    # Ties in time on purpose: the id breaks them.
    changes = [
        CustomerChange(
            C1, "updated", clerk.ref, T0 + timedelta(seconds=number // 3), (FieldChange("notes", None, "x"),)
        )
        for number in range(10)
    ]
    await _record(backend, *changes)
    everything = await _history(backend)

    for limit in (1, 3, 4, 10):
        seen: list[CustomerChange] = []
        after = None
        while page := await _history(backend, limit=limit, after=after):
            assert len(page) <= limit
            seen += page
            last = page[-1]
            assert last.id is not None
            after = (last.at, last.id)
        assert seen == everything

    # A change recorded meanwhile is newer than any cursor: the pages still to come stay the same.
    first_page = await _history(backend, limit=4)
    assert first_page[-1].id is not None
    cursor = (first_page[-1].at, first_page[-1].id)
    await _record(backend, replace(changes[0], at=T0 + timedelta(hours=1)))
    assert await _history(backend, after=cursor) == everything[4:]


async def test_each_customer_has_its_own_history(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    ada, grace = make_customer("C-1", "Ada", "Lovelace", by=clerk), make_customer("c-1", "Grace", "Hopper", by=clerk)
    await _record(backend, CustomerChange.created(ada), CustomerChange.created(grace))

    assert _without_ids(await _history(backend, "C-1")) == [CustomerChange.created(ada)]
    assert _without_ids(await _history(backend, "c-1")) == [CustomerChange.created(grace)]
    assert await _history(backend, "C-2") == []


async def test_a_change_is_recorded_only_when_its_unit_of_work_commits(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    customer = make_customer(C1, "Ada", "Lovelace", by=clerk)
    async with backend.uow() as uow:
        await uow.customers.add(customer)
        await uow.customer_history.record(CustomerChange.created(customer))
        # Seen inside its own transaction, as the customer is.
        assert len(await uow.customer_history.list(C1, 10)) == 1
    assert await _history(backend) == []
    assert await read(backend, lambda uow: uow.customers.get(C1)) is None


async def test_the_history_outlives_the_customer(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    customer = make_customer(C1, "Ada", "Lovelace", by=clerk)
    async with backend.uow() as uow:
        await uow.customers.add(customer)
        await uow.customer_history.record(CustomerChange.created(customer))
        await uow.commit()
    deleted = CustomerChange.deleted(C1, clerk.ref, T0 + timedelta(minutes=1))
    async with backend.uow() as uow:
        await uow.customers.delete(C1)
        await uow.customer_history.record(deleted)
        await uow.commit()

    assert _without_ids(await _history(backend)) == [deleted, CustomerChange.created(customer)]
