"""Webhooks and the outbox, on every adapter: events are written with the change that causes them (and only when it
commits), fanned out to the webhooks that subscribe, and claimed by workers one subject at a time, in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

from application.ports.webhooks import Attempt
from domain.customer_history import CustomerChange
from domain.users import User
from domain.values import PersonName
from domain.webhooks import Webhook, WebhookEvent
from tests.contract.builders import T0, Backend, make_customer, make_user, read, save_users

NOW = T0 + timedelta(hours=1)


def _webhook(owner: User, events: tuple[str, ...] = ("*",), url: str = "https://hooks.example.com/crm") -> Webhook:
    return Webhook(
        id=uuid4(),
        url=url,
        events=events,
        description="shop",
        active=True,
        secret="whsec_" + "A" * 44,
        created_at=T0,
        created_by=owner.ref,
        updated_at=T0,
    )


async def _add_webhooks(backend: Backend, *webhooks: Webhook) -> None:
    async with backend.uow() as uow:
        for webhook in webhooks:
            await uow.webhooks.add(webhook)
        await uow.commit()


async def _create_customer(backend: Backend, owner: User, customer_id: str = "C-1", *, commit: bool = True) -> None:
    customer = make_customer(customer_id, "Ada", "Lovelace", by=owner, email="ada@example.com")
    async with backend.uow() as uow:
        await uow.customers.add(customer)
        await uow.customer_history.record(CustomerChange.created(customer))
        if commit:
            await uow.commit()


async def _rename_customer(backend: Backend, owner: User, customer_id: str, surname: str, minutes: int) -> None:
    async with backend.uow() as uow:
        customer = await uow.customers.get(customer_id, for_update=True)  # type: ignore[arg-type]
        assert customer is not None
        details = replace(customer.details, surname=PersonName(surname))
        changes = customer.change_details(details, by=owner.ref, at=T0 + timedelta(minutes=minutes))
        await uow.customers.update(customer)
        await uow.customer_history.record(CustomerChange.updated(customer, changes))
        await uow.commit()


async def test_webhooks_read_back_change_list_and_delete(backend: Backend) -> None:
    owner = make_user("admin@example.com", "Ada Admin", is_admin=True)
    await save_users(backend, owner)
    first, second = _webhook(owner), _webhook(owner, ("customer.created",))
    second = replace(second, created_at=T0 + timedelta(seconds=1))
    await _add_webhooks(backend, first, second)

    assert await read(backend, lambda uow: uow.webhooks.get(first.id)) == first
    first.rotate_secret("whsec_" + "B" * 44, NOW)
    first.active = False
    async with backend.uow() as uow:
        await uow.webhooks.update(first)
        await uow.commit()
    stored = await read(backend, lambda uow: uow.webhooks.get(first.id))
    assert stored == first
    assert stored is not None and stored.signing_secrets(NOW) == ["whsec_" + "B" * 44, "whsec_" + "A" * 44]
    assert stored.signing_secrets(NOW + timedelta(hours=25)) == ["whsec_" + "B" * 44]

    assert [w.id for w in await read(backend, lambda uow: uow.webhooks.list_webhooks(10))] == [first.id, second.id]
    after = (first.created_at, first.id)
    assert [w.id for w in await read(backend, lambda uow: uow.webhooks.list_webhooks(10, after))] == [second.id]

    async with backend.uow() as uow:
        await uow.webhooks.delete(first.id)
        await uow.commit()
    assert await read(backend, lambda uow: uow.webhooks.get(first.id)) is None


async def test_a_committed_change_becomes_a_delivery_for_each_subscribed_webhook(backend: Backend) -> None:
    owner = make_user("admin@example.com", "Ada Admin", is_admin=True)
    await save_users(backend, owner)
    everything, created_only, users_only = (
        _webhook(owner),
        _webhook(owner, ("customer.created",)),
        _webhook(owner, ("user.created",)),
    )
    await _add_webhooks(backend, everything, created_only, users_only)

    await _create_customer(backend, owner)

    async with backend.queue.claim(10, NOW) as claimed:
        deliveries = sorted(claimed.deliveries, key=lambda d: str(d.webhook.id))
    assert sorted(d.webhook.id for d in deliveries) == sorted([everything.id, created_only.id])
    event = deliveries[0].event
    assert event.id == deliveries[1].event.id
    assert event.type == "customer.created"
    assert event.subject == "customer:C-1"
    assert event.occurred_at == T0
    assert event.data == {
        "id": "C-1",
        "name": "Ada",
        "surname": "Lovelace",
        "email": "ada@example.com",
        "phone": None,
        "notes": None,
        "has_photo": False,
        "created_at": "2026-11-23T20:00:00.123456Z",
        "created_by": {"id": str(owner.id), "name": "Ada Admin"},
        "updated_at": "2026-11-23T20:00:00.123456Z",
        "updated_by": {"id": str(owner.id), "name": "Ada Admin"},
        "version": 1,
    }


async def test_a_rolled_back_change_leaves_no_event(backend: Backend) -> None:
    owner = make_user("admin@example.com", is_admin=True)
    await save_users(backend, owner)
    webhook = _webhook(owner)
    await _add_webhooks(backend, webhook)

    await _create_customer(backend, owner, commit=False)

    async with backend.queue.claim(10, NOW) as claimed:
        assert claimed.deliveries == []
    assert await read(backend, lambda uow: uow.webhooks.list_deliveries(webhook.id, 10)) == []
    assert (await backend.queue.stats(NOW)).pending == 0


async def test_updates_carry_the_changes_and_deletions_only_the_id(backend: Backend) -> None:
    owner = make_user("admin@example.com", is_admin=True)
    await save_users(backend, owner)
    webhook = _webhook(owner, ("customer.updated", "customer.deleted"))
    await _add_webhooks(backend, webhook)
    await _create_customer(backend, owner)
    await _rename_customer(backend, owner, "C-1", "King", 1)
    async with backend.uow() as uow:
        await uow.customers.delete("C-1")  # type: ignore[arg-type]
        await uow.customer_history.record(CustomerChange.deleted("C-1", owner.ref, T0 + timedelta(minutes=2)))  # type: ignore[arg-type]
        await uow.commit()

    deliveries = await read(backend, lambda uow: uow.webhooks.list_deliveries(webhook.id, 10))
    assert [d.type for d in deliveries] == ["customer.deleted", "customer.updated"]
    assert all(d.status == "pending" and d.attempts == 0 for d in deliveries)
    async with backend.queue.claim(10, NOW) as claimed:
        (update,) = claimed.deliveries  # the deletion waits behind the update of the same customer
    assert update.event.data["changes"] == [{"field": "surname", "old": "Lovelace", "new": "King"}]
    assert update.event.data["surname"] == "King"
    assert update.event.data["version"] == 2


async def test_user_changes_that_a_receiver_can_see_become_events(backend: Backend) -> None:
    owner = make_user("admin@example.com", "Ada Admin", is_admin=True)
    await save_users(backend, owner)
    webhook = _webhook(owner, ("user.created", "user.updated", "user.deleted"))
    await _add_webhooks(backend, webhook)

    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    for change in (
        {"password_hash": "$argon2id$another"},  # nothing a receiver sees
        {"name": PersonName("Clara King"), "is_admin": True},
        {"deleted_at": NOW},
    ):
        async with backend.uow() as uow:
            user = await uow.users.get(clerk.id)
            assert user is not None
            await uow.users.update(replace(user, **change))
            await uow.commit()

    deliveries = await read(backend, lambda uow: uow.webhooks.list_deliveries(webhook.id, 10))
    assert [d.type for d in deliveries] == ["user.deleted", "user.updated", "user.created"]
    events = []
    for _ in range(3):
        async with backend.queue.claim(10, NOW) as claimed:
            (delivery,) = claimed.deliveries
            events.append(delivery.event)
            await claimed.settle(delivery, Attempt(NOW, 200, 5, "ok"), "delivered", None)
            await claimed.commit()
    assert events[0].data["email"] == "clerk@example.com"
    assert "password_hash" not in events[0].data
    assert events[1].data["changes"] == [
        {"field": "name", "old": "Clara Clerk", "new": "Clara King"},
        {"field": "is_admin", "old": "false", "new": "true"},
    ]
    assert events[1].data["is_admin"] is True


async def test_workers_claim_each_subject_in_order_and_skip_what_others_hold(backend: Backend) -> None:
    owner = make_user("admin@example.com", is_admin=True)
    await save_users(backend, owner)
    webhook = _webhook(owner)
    await _add_webhooks(backend, webhook)
    await _create_customer(backend, owner, "C-1")
    await _rename_customer(backend, owner, "C-1", "King", 1)
    await _create_customer(backend, owner, "C-2")

    async with backend.queue.claim(10, NOW) as first:
        assert sorted(d.event.subject for d in first.deliveries) == ["customer:C-1", "customer:C-2"]
        assert {d.event.type for d in first.deliveries} == {"customer.created"}
        # Another worker meanwhile finds nothing: C-1's update waits for C-1's creation.
        async with backend.queue.claim(10, NOW) as second:
            assert second.deliveries == []
        for delivery in first.deliveries:
            await first.settle(delivery, Attempt(NOW, 204, 3, ""), "delivered", None)
        await first.commit()

    async with backend.queue.claim(10, NOW) as claimed:
        (update,) = claimed.deliveries
        assert update.event.type == "customer.updated"
        # Left without a commit: released untouched.
    async with backend.queue.claim(10, NOW) as claimed:
        assert [d.id for d in claimed.deliveries] == [update.id]
        retry_at = NOW + timedelta(seconds=10)
        await claimed.settle(update, Attempt(NOW, 500, 7, "oops"), "pending", retry_at)
        await claimed.commit()

    async with backend.queue.claim(10, NOW) as claimed:
        assert claimed.deliveries == []
    assert await backend.queue.next_due(NOW) == retry_at
    stats = await backend.queue.stats(NOW)
    assert stats.pending == 1
    assert stats.oldest_pending_age == (NOW - (T0 + timedelta(minutes=1))).total_seconds()
    listed = await read(backend, lambda uow: uow.webhooks.list_deliveries(webhook.id, 10))
    assert [d.type for d in listed] == ["customer.created", "customer.updated", "customer.created"]
    assert [d.status for d in listed] == ["delivered", "pending", "delivered"]
    assert (listed[1].attempts, listed[1].last_status_code, listed[1].next_attempt_at) == (1, 500, retry_at)
    assert (listed[0].last_status_code, listed[0].next_attempt_at) == (204, None)

    async with backend.queue.claim(10, retry_at) as claimed:
        assert [d.id for d in claimed.deliveries] == [update.id]
        assert claimed.deliveries[0].attempts == 1
        await claimed.settle(update, Attempt(retry_at, 410, 2, "gone"), "failed", None, disable_webhook=True)
        await claimed.commit()
    stored = await read(backend, lambda uow: uow.webhooks.get(webhook.id))
    assert stored is not None and stored.active is False


async def test_a_delivery_can_be_retried_and_a_test_event_goes_to_one_webhook(backend: Backend) -> None:
    owner = make_user("admin@example.com", is_admin=True)
    await save_users(backend, owner)
    webhook, other = _webhook(owner), _webhook(owner)
    await _add_webhooks(backend, webhook, other)
    event = WebhookEvent(uuid4(), "webhook.test", f"webhook:{webhook.id}", NOW, {"webhook_id": str(webhook.id)})
    async with backend.uow() as uow:
        await uow.webhooks.add_test_event(webhook.id, event)
        await uow.commit()
    async with backend.queue.claim(10, NOW) as claimed:
        (delivery,) = claimed.deliveries
        assert (delivery.webhook.id, delivery.event) == (webhook.id, event)
        await claimed.settle(delivery, Attempt(NOW, 500, 1, ""), "failed", None)
        await claimed.commit()

    async with backend.uow() as uow:
        assert await uow.webhooks.retry_delivery(other.id, delivery.id, NOW) is False
        assert await uow.webhooks.retry_delivery(webhook.id, delivery.id, NOW) is True
        await uow.commit()
    async with backend.queue.claim(10, NOW) as claimed:
        assert [d.id for d in claimed.deliveries] == [delivery.id]
