"""A customer's change history through the use cases, on the in-memory adapters."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from application.customers.editing import NewCustomer
from application.customers.photo_rules import UnsupportedImage
from domain.customer_history import FieldChange
from domain.errors import Conflict, InvalidInput, MalformedRequest, NotFound, PreconditionFailed
from domain.sign_in import Actor
from tests.unit.conftest import Core


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


async def _actors(core: Core) -> tuple[Actor, Actor]:
    alice = await core.actor(await core.user("alice@example.com", name="Alice Admin", admin=True))
    bob = await core.actor(await core.user("bob@example.com", name="Bob Clerk"))
    return alice, bob


async def test_every_change_is_recorded_with_actor_time_and_fields_newest_first(core: Core) -> None:
    alice, bob = await _actors(core)
    start = core.clock.now()
    await core.app.create_customer().execute(alice, NewCustomer("C-1", "Ada", "Lovelace", email="ada@example.com"))
    core.clock.advance(timedelta(minutes=1))
    await core.app.update_customer().execute(bob, "C-1", {"surname": "King", "email": None, "phone": "123"})
    core.clock.advance(timedelta(minutes=1))
    await core.app.update_customer().execute(bob, "C-1", {"surname": "King"})  # changes nothing: not recorded
    await core.app.update_customer().execute(alice, "C-1", {"notes": "VIP"})
    core.clock.advance(timedelta(minutes=1))
    await core.app.upload_customer_photo().execute(bob, "C-1", jpeg())
    core.clock.advance(timedelta(minutes=1))
    await core.app.upload_customer_photo().execute(alice, "C-1", jpeg())
    core.clock.advance(timedelta(minutes=1))
    await core.app.remove_customer_photo().execute(bob, "C-1")
    await core.app.remove_customer_photo().execute(bob, "C-1")  # no photo left: not recorded

    page = await core.app.list_customer_history().execute(bob, "C-1", limit=20)

    assert page.next_cursor is None
    summary = [(change.kind, change.by.name, change.at - start, change.changes) for change in page.items]
    assert summary == [
        ("photo_changed", "Bob Clerk", timedelta(minutes=5), (FieldChange("photo", "present", None),)),
        ("photo_changed", "Alice Admin", timedelta(minutes=4), (FieldChange("photo", "present", "present"),)),
        ("photo_changed", "Bob Clerk", timedelta(minutes=3), (FieldChange("photo", None, "present"),)),
        ("updated", "Alice Admin", timedelta(minutes=2), (FieldChange("notes", None, "VIP"),)),
        (
            "updated",
            "Bob Clerk",
            timedelta(minutes=1),
            (
                FieldChange("surname", "Lovelace", "King"),
                FieldChange("email", "ada@example.com", None),
                FieldChange("phone", None, "123"),
            ),
        ),
        (
            "created",
            "Alice Admin",
            timedelta(0),
            (
                FieldChange("name", None, "Ada"),
                FieldChange("surname", None, "Lovelace"),
                FieldChange("email", None, "ada@example.com"),
            ),
        ),
    ]
    assert {change.by.id for change in page.items} == {alice.user_id, bob.user_id}
    assert all(change.customer_id == "C-1" for change in page.items)


async def test_the_history_pages_through_every_change_once(core: Core) -> None:
    alice, _ = await _actors(core)
    await core.app.create_customer().execute(alice, NewCustomer("C-1", "Ada", "Lovelace"))
    for number in range(11):
        # Several changes share a time: the order they were made in still holds.
        if number % 4 == 0:
            core.clock.advance(timedelta(seconds=1))
        await core.app.update_customer().execute(alice, "C-1", {"notes": f"note {number}"})

    seen: list[str | None] = []
    cursor = None
    while True:
        page = await core.app.list_customer_history().execute(alice, "C-1", limit=5, cursor=cursor)
        assert len(page.items) <= 5
        seen += [change.changes[-1].new for change in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"note {number}" for number in reversed(range(11))] + ["Lovelace"]


async def test_bad_cursors_and_limits_are_refused(core: Core) -> None:
    alice, _ = await _actors(core)
    for customer_id in ("C-1", "C-2"):
        await core.app.create_customer().execute(alice, NewCustomer(customer_id, "Ada", "Lovelace"))
        await core.app.update_customer().execute(alice, customer_id, {"notes": "x"})
    history = core.app.list_customer_history()
    cursor = (await history.execute(alice, "C-1", limit=1)).next_cursor
    assert cursor is not None
    with pytest.raises(MalformedRequest):
        await history.execute(alice, "C-2", limit=1, cursor=cursor)  # another customer's cursor
    customers_cursor = (await core.app.list_customers().execute(alice, limit=1)).next_cursor
    assert customers_cursor is not None
    for bad in ("garbage!", customers_cursor):
        with pytest.raises(MalformedRequest):
            await history.execute(alice, "C-1", limit=1, cursor=bad)
    for limit in (0, 101):
        with pytest.raises(InvalidInput):
            await history.execute(alice, "C-1", limit=limit)


async def test_a_deleted_customers_history_stays_and_continues_if_the_id_returns_after_the_purge(core: Core) -> None:
    alice, bob = await _actors(core)
    await core.app.create_customer().execute(alice, NewCustomer("C-1", "Ada", "Lovelace"))
    core.clock.advance(timedelta(minutes=1))
    await core.app.delete_customer().execute(bob, "C-1")

    history = core.app.list_customer_history()
    deleted = (await history.execute(alice, "C-1", limit=10)).items
    assert [(change.kind, change.by.name, change.changes) for change in deleted] == [
        ("deleted", "Bob Clerk", ()),
        ("created", "Alice Admin", deleted[1].changes),
    ]
    with pytest.raises(NotFound):
        await core.app.get_customer().execute(alice, "C-1")

    # In the trash the id stays taken; after the trash period the sweep purges it and the id is free.
    with pytest.raises(Conflict, match="trash"):
        await core.app.create_customer().execute(bob, NewCustomer("C-1", "Grace", "Hopper"))
    core.clock.advance(timedelta(days=31))
    assert await core.app.purge_trash().execute() == 1
    await core.app.create_customer().execute(bob, NewCustomer("C-1", "Grace", "Hopper"))
    kinds = [change.kind for change in (await history.execute(alice, "C-1", limit=10)).items]
    assert kinds == ["created", "deleted", "created"]


async def test_ids_without_history_are_not_found(core: Core) -> None:
    alice, _ = await _actors(core)
    for customer_id in ("C-404", "not a valid id!", ""):
        with pytest.raises(NotFound):
            await core.app.list_customer_history().execute(alice, customer_id, limit=10)


async def test_refused_changes_leave_no_history(core: Core) -> None:
    alice, _ = await _actors(core)
    created = await core.app.create_customer().execute(alice, NewCustomer("C-1", "Ada", "Lovelace"))
    stale = [created.revision]
    await core.app.update_customer().execute(alice, "C-1", {"notes": "first"})
    with pytest.raises(PreconditionFailed):
        await core.app.update_customer().execute(alice, "C-1", {"notes": "lost"}, stale)
    with pytest.raises(PreconditionFailed):
        await core.app.delete_customer().execute(alice, "C-1", stale)
    with pytest.raises(InvalidInput):
        await core.app.update_customer().execute(alice, "C-1", {"name": None})
    with pytest.raises(UnsupportedImage):
        await core.app.upload_customer_photo().execute(alice, "C-1", b"<svg/>")

    kinds = [change.kind for change in (await core.app.list_customer_history().execute(alice, "C-1", limit=10)).items]
    assert kinds == ["updated", "created"]
