"""The trash, erasure and the CSV import in the outbox, on every adapter: each of their changes is an event, and an
erasure leaves no personal value of the customer in any earlier event, delivered or not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from adapters.photos.memory import InMemoryPhotoStorage
from application.customers.editing import DeleteCustomer
from application.customers.erasure import EraseCustomer
from application.customers.importing import ImportCustomers, ImportRow
from application.customers.trash import RestoreCustomer
from application.ports.webhooks import Attempt
from domain.sign_in import Actor
from domain.users import User
from domain.webhooks import Webhook
from tests.contract.builders import T0, Backend, make_user, read, save_users
from tests.support.clock import ManualClock

LATER = T0 + timedelta(days=1)


async def _subscribe_to_everything(backend: Backend, owner: User) -> Webhook:
    webhook = Webhook(
        id=uuid4(),
        url="https://hooks.example.com/crm",
        events=("*",),
        description="everything",
        active=True,
        secret="whsec_" + "A" * 44,
        created_at=T0,
        created_by=owner.ref,
        updated_at=T0,
    )
    async with backend.uow() as uow:
        await uow.webhooks.add(webhook)
        await uow.commit()
    return webhook


async def _deliver_all(backend: Backend) -> list[tuple[str, str, dict[str, Any]]]:
    """Claim and deliver until nothing is due: (subject, type, data) of each event, per subject in commit order."""
    delivered: list[tuple[str, str, dict[str, Any]]] = []
    while True:
        async with backend.queue.claim(100, LATER) as claimed:
            if not claimed.deliveries:
                return delivered
            for delivery in claimed.deliveries:
                delivered.append((delivery.event.subject, delivery.event.type, delivery.event.data))
                await claimed.settle(delivery, Attempt(LATER, 204, 1, ""), "delivered", None)
            await claimed.commit()


def _of(subject: str, events: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    return [(event_type, data) for event_subject, event_type, data in events if event_subject == subject]


def _row(number: int, customer_id: str, surname: str, **more: str) -> ImportRow:
    return ImportRow(number, {"id": customer_id, "name": "Ada", "surname": surname, **more})


async def test_import_trash_restore_and_erasure_each_become_an_event(backend: Backend) -> None:
    admin = make_user("admin@example.com", "Alice Admin", is_admin=True)
    await save_users(backend, admin)
    actor = Actor(admin.id, admin.name, True, uuid4())
    await _subscribe_to_everything(backend, admin)
    clock = ManualClock(T0 + timedelta(hours=1))
    importer = ImportCustomers(backend.uow, clock)

    report = await importer.execute(actor, [_row(2, "C-1", "Lovelace"), _row(3, "C-2", "Byron")])
    assert (report.created, report.errors) == (2, [])
    clock.advance(timedelta(minutes=1))
    report = await importer.execute(actor, [_row(2, "C-1", "King", email="ada@example.com")], mode="upsert")
    assert (report.updated, report.errors) == (1, [])
    clock.advance(timedelta(minutes=1))
    await DeleteCustomer(backend.uow, clock).execute(actor, "C-1")
    clock.advance(timedelta(minutes=1))
    await RestoreCustomer(backend.uow, clock).execute(actor, "C-1")
    clock.advance(timedelta(minutes=1))
    await EraseCustomer(backend.uow, InMemoryPhotoStorage(), clock).execute(actor, "C-2")

    events = await _deliver_all(backend)
    ada = _of("customer:C-1", events)
    assert [event_type for event_type, _ in ada] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "customer.restored",
    ]
    created, updated, deleted, restored = (data for _, data in ada)
    assert (created["surname"], created["version"], created["created_by"]["name"]) == ("Lovelace", 1, "Alice Admin")
    assert updated["changes"] == [
        {"field": "surname", "old": "Lovelace", "new": "King"},
        {"field": "email", "old": None, "new": "ada@example.com"},
    ]
    assert deleted == {"id": "C-1"}
    assert (restored["surname"], restored["email"], restored["version"]) == ("King", "ada@example.com", 3)
    assert "changes" not in restored
    # C-2's creation was still waiting when it was erased: it goes out with the id only.
    assert _of("customer:C-2", events) == [("customer.created", {"id": "C-2"}), ("customer.erased", {"id": "C-2"})]


async def test_an_erasure_reduces_every_earlier_event_of_the_customer_to_its_id(backend: Backend) -> None:
    admin = make_user("admin@example.com", "Alice Admin", is_admin=True)
    await save_users(backend, admin)
    actor = Actor(admin.id, admin.name, True, uuid4())
    webhook = await _subscribe_to_everything(backend, admin)
    clock = ManualClock(T0 + timedelta(hours=1))
    importer = ImportCustomers(backend.uow, clock)
    personal = {"email": "ada@example.com", "phone": "+44 20 7946 0000", "notes": "likes engines"}
    await importer.execute(actor, [_row(2, "C-1", "Lovelace", **personal), _row(3, "C-2", "Byron")])
    delivered = await _deliver_all(backend)
    assert _of("customer:C-1", delivered)[0][1]["email"] == "ada@example.com"
    clock.advance(timedelta(minutes=1))
    await importer.execute(actor, [_row(2, "C-1", "King", **personal)], mode="upsert")  # left pending

    clock.advance(timedelta(minutes=1))
    await EraseCustomer(backend.uow, InMemoryPhotoStorage(), clock).execute(actor, "C-1")

    # Send every delivery again, the delivered ones included, to read what the outbox now holds.
    deliveries = await read(backend, lambda uow: uow.webhooks.list_deliveries(webhook.id, 10))
    assert [(d.type, d.status) for d in deliveries] == [
        ("customer.erased", "pending"),
        ("customer.updated", "pending"),
        ("customer.created", "delivered"),
        ("customer.created", "delivered"),
    ]
    async with backend.uow() as uow:
        for delivery in deliveries:
            assert await uow.webhooks.retry_delivery(webhook.id, delivery.id, LATER)
        await uow.commit()
    events = await _deliver_all(backend)
    assert _of("customer:C-1", events) == [
        ("customer.created", {"id": "C-1"}),
        ("customer.updated", {"id": "C-1"}),
        ("customer.erased", {"id": "C-1"}),
    ]
    # Another customer's events keep their data.
    ((_, byron),) = _of("customer:C-2", events)
    assert byron["surname"] == "Byron"
