"""The live changes' event feed: every recorded customer change as an event with the webhook's body, in commit
order, nothing from a discarded unit of work, an erased customer's earlier events gone, positions resumable."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domain.customer_events import BEGINNING, CustomerEvent, EventPosition
from domain.customer_history import CustomerChange
from domain.customers import CustomerDetails, Photo
from domain.values import PersonName
from tests.contract.builders import T0, Backend, make_customer, make_user, save_users

PHOTO = Photo("photos/p1", "photos/p1-thumb", "image/webp")


async def _all(backend: Backend) -> list[CustomerEvent]:
    return await backend.events.after(BEGINNING, 1000)


async def test_each_change_is_an_event_with_the_webhook_body_in_order(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    customer = make_customer("C-1", "Ada", "Lovelace", by=clerk, email="ada@example.com")
    async with backend.uow() as uow:
        await uow.customers.add_with_history(customer, CustomerChange.created(customer))
        await uow.commit()
    changes = customer.change_details(
        CustomerDetails(PersonName("Ada"), PersonName("King"), None), clerk.ref, T0 + timedelta(minutes=1)
    )
    async with backend.uow() as uow:
        assert await uow.customers.update_with_history(
            customer, CustomerChange.updated(customer, changes), read_version=1
        )
        await uow.commit()
    previous = customer.replace_photo(PHOTO, clerk.ref, T0 + timedelta(minutes=2))
    async with backend.uow() as uow:
        await uow.customers.update(customer)
        await uow.customer_history.record(CustomerChange.photo_changed(customer, previous))
        await uow.commit()
    async with backend.uow() as uow:
        await uow.customers.move_to_trash(customer.id, clerk.ref, T0 + timedelta(minutes=3))
        await uow.customer_history.record(CustomerChange.deleted(customer.id, clerk.ref, T0 + timedelta(minutes=3)))
        await uow.commit()

    events = await _all(backend)

    assert [event.type for event in events] == [
        "customer.created",
        "customer.updated",
        "customer.photo_changed",
        "customer.deleted",
    ]
    assert [event.position for event in events] == sorted(event.position for event in events)
    created, updated, photographed, deleted = events
    assert created.data["name"] == "Ada"
    assert created.data["surname"] == "Lovelace"
    assert created.data["email"] == "ada@example.com"
    assert created.data["created_by"] == {"id": str(clerk.id), "name": "Clara Clerk"}
    assert created.data["has_photo"] is False
    assert "changes" not in created.data
    assert created.occurred_at == T0
    assert updated.data["surname"] == "King"
    assert updated.data["changes"] == [
        {"field": "surname", "old": "Lovelace", "new": "King"},
        {"field": "email", "old": "ada@example.com", "new": None},
    ]
    assert photographed.data["has_photo"] is True
    assert photographed.photo == PHOTO
    assert created.photo is None
    # Gone to the trash: only its id, and no photo to sign.
    assert deleted.data == {"id": "C-1"}
    assert deleted.photo is None
    assert await backend.events.latest() == deleted.position
    assert await backend.events.after(updated.position, 10) == [photographed, deleted]


async def test_a_discarded_unit_of_work_leaves_no_event(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    customer = make_customer("C-1", "Ada", "Lovelace", by=clerk)
    async with backend.uow() as uow:
        await uow.customers.add_with_history(customer, CustomerChange.created(customer))

    assert await _all(backend) == []
    assert await backend.events.latest() == BEGINNING


async def test_an_erasure_takes_the_customers_earlier_events_with_it(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    ada, bob = (make_customer(i, name, "Smith", by=clerk) for i, name in (("C-1", "Ada"), ("C-2", "Bob")))
    async with backend.uow() as uow:
        await uow.customers.add_with_history(ada, CustomerChange.created(ada))
        await uow.customers.add_with_history(bob, CustomerChange.created(bob))
        await uow.commit()
    first = (await _all(backend))[0]
    async with backend.uow() as uow:
        await uow.customers.delete(ada.id)
        await uow.customer_history.erase(ada.id)
        await uow.customer_history.record(CustomerChange.erased(ada.id, clerk.ref, T0 + timedelta(hours=1)))
        await uow.commit()

    events = await _all(backend)

    assert [(event.type, event.data["id"]) for event in events] == [
        ("customer.created", "C-2"),
        ("customer.erased", "C-1"),
    ]
    assert events[1].data == {"id": "C-1"}
    assert "Ada" not in repr(events)
    # A client that had seen the erased customer's event still resumes from it.
    assert await backend.events.knows(first.position)


async def test_events_come_in_commit_order_and_never_behind_what_was_read(backend: Backend) -> None:
    """The first unit of work to write commits last: a reader following the feed after each commit sees every
    event exactly once, in the order of the commits."""
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    first_wrote, go = asyncio.Event(), asyncio.Event()
    committed: list[str] = []

    async def write(customer_id: str, *, wait: bool) -> None:
        customer = make_customer(customer_id, "Ada", "Lovelace", by=clerk)
        async with backend.uow() as uow:
            await uow.customer_history.record(CustomerChange.created(customer))
            first_wrote.set()
            if wait:
                await go.wait()
            await uow.commit()
        committed.append(customer_id)

    early = asyncio.create_task(write("C-early", wait=True))
    await first_wrote.wait()
    late = asyncio.create_task(write("C-late", wait=False))
    await asyncio.sleep(0.2)  # the late writer commits now (PostgreSQL) or waits behind the lock (in memory)
    go.set()
    await asyncio.gather(early, late)

    seen = [event.data["id"] for event in await _all(backend)]
    assert seen == committed


async def test_a_reader_that_follows_misses_nothing_while_others_write(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    position, seen = BEGINNING, []

    async def writer(prefix: str) -> None:
        for n in range(10):
            customer = make_customer(f"{prefix}-{n}", "Ada", "Lovelace", by=clerk)
            async with backend.uow() as uow:
                await uow.customers.add_with_history(customer, CustomerChange.created(customer))
                await uow.commit()

    async def reader() -> None:
        nonlocal position
        for _ in range(200):
            for event in await backend.events.after(position, 7):
                seen.append(event.data["id"])
                position = event.position
            await asyncio.sleep(0)

    await asyncio.gather(writer("A"), writer("B"), reader())
    for event in await backend.events.after(position, 100):
        seen.append(event.data["id"])

    assert sorted(seen) == sorted(f"{p}-{n}" for p in "AB" for n in range(10))
    assert len(seen) == len(set(seen))


async def test_positions_that_may_be_resumed_from(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    assert await backend.events.knows(BEGINNING)
    for n in range(2):
        customer = make_customer(f"C-{n}", "Ada", "Lovelace", by=clerk, at=T0 + timedelta(days=n))
        async with backend.uow() as uow:
            await uow.customers.add_with_history(customer, CustomerChange.created(customer))
            await uow.commit()
    old, new = await _all(backend)
    assert await backend.events.knows(old.position)
    assert await backend.events.knows(new.position)
    # Never given out.
    assert not await backend.events.knows(EventPosition(new.position.commit + 1000, 1))

    # Pruning goes by commit time: all of it is older than this. The last event stays, to resume from.
    assert await backend.events.prune(T0 + timedelta(days=365 * 100)) == 1
    assert await backend.events.prune(T0 + timedelta(days=365 * 100)) == 0

    assert not await backend.events.knows(old.position)
    assert not await backend.events.knows(BEGINNING)
    assert await backend.events.knows(new.position)
    assert await _all(backend) == [new]


async def test_a_wait_ends_soon_after_a_commit_also_one_made_while_nothing_waited(backend: Backend) -> None:
    """On PostgreSQL a commit notifies only while a listener is connected (migration 0009): a wait that has just
    connected one cannot count on a notification of what committed before, and reads at once instead."""
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)

    async def change(customer_id: str) -> None:
        customer = make_customer(customer_id, "Ada", "Lovelace", by=clerk)
        async with backend.uow() as uow:
            await uow.customers.add_with_history(customer, CustomerChange.created(customer))
            await uow.commit()

    async def waited(during: str | None = None) -> float:
        started = asyncio.get_running_loop().time()
        waiting = asyncio.create_task(backend.events.wait(30))
        if during is not None:
            await asyncio.sleep(0.2)
            await change(during)
        await waiting
        return asyncio.get_running_loop().time() - started

    try:
        await change("C-before")
        assert await waited() < 5
        assert await waited(during="C-during") < 5
        # Released (the hub stopped), then a change, then waited for again.
        await backend.events.aclose()
        await change("C-between")
        assert await waited() < 5
    finally:
        await backend.events.aclose()
