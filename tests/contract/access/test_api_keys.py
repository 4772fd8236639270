"""API keys: the repository admins manage them through, and the lookup every request with a key goes through."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

from domain.api_keys import ApiKey, ApiKeyScope, new_key_secret
from domain.customer_history import CustomerChange
from domain.customers import Customer, CustomerDetails
from domain.users import User
from domain.values import CustomerId, PersonName
from domain.webhooks import Webhook
from tests.contract.builders import T0, Backend, make_user, save_users

NOW = T0 + timedelta(hours=1)
READ = frozenset({ApiKeyScope.CUSTOMERS_READ})
READ_WRITE = frozenset(ApiKeyScope)


def make_key(
    admin: User,
    name: str = "Shop sync",
    *,
    at: datetime = T0,
    scopes: frozenset[ApiKeyScope] = READ,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A key as the use case makes it, and its secret."""
    secret = new_key_secret()
    key = ApiKey(uuid4(), name, scopes, secret.prefix, secret.key_hash, at, admin.ref, expires_at=expires_at)
    return key, secret.key


async def _admin(backend: Backend) -> User:
    admin = make_user("root@example.com", "Root", is_admin=True)
    await save_users(backend, admin)
    return admin


async def _save(backend: Backend, *keys: ApiKey) -> None:
    async with backend.uow() as uow:
        for key in keys:
            await uow.api_keys.add(key)
        await uow.commit()


async def test_a_saved_key_reads_back_as_it_was_saved(backend: Backend) -> None:
    admin = await _admin(backend)
    key, _ = make_key(admin, scopes=READ_WRITE, expires_at=T0 + timedelta(days=30))
    await _save(backend, key)
    async with backend.uow.for_reading() as uow:
        assert await uow.api_keys.get(key.id) == key
        assert await uow.api_keys.get(uuid4()) is None


async def test_keys_are_listed_oldest_first_a_page_at_a_time(backend: Backend) -> None:
    admin = await _admin(backend)
    keys = [make_key(admin, f"Key {n}", at=T0 + timedelta(minutes=n))[0] for n in range(5)]
    await _save(backend, *reversed(keys))
    async with backend.uow.for_reading() as uow:
        first = await uow.api_keys.list(3)
        rest = await uow.api_keys.list(3, (first[-1].created_at, first[-1].id))
    assert [key.name for key in first + rest] == [f"Key {n}" for n in range(5)]


async def test_a_deleted_key_is_neither_got_nor_listed_nor_deleted_twice(backend: Backend) -> None:
    admin = await _admin(backend)
    kept, _ = make_key(admin, "Kept")
    deleted, _ = make_key(admin, "Deleted")
    await _save(backend, kept, deleted)
    async with backend.uow() as uow:
        assert await uow.api_keys.delete(deleted.id, NOW) is True
        await uow.commit()
    async with backend.uow() as uow:
        assert await uow.api_keys.delete(deleted.id, NOW) is False
        assert await uow.api_keys.delete(uuid4(), NOW) is False
        assert await uow.api_keys.get(deleted.id) is None
        assert [key.id for key in await uow.api_keys.list(10)] == [kept.id]


async def test_a_rolled_back_key_does_not_exist(backend: Backend) -> None:
    admin = await _admin(backend)
    key, _ = make_key(admin)
    async with backend.uow() as uow:
        await uow.api_keys.add(key)
    async with backend.uow.for_reading() as uow:
        assert await uow.api_keys.get(key.id) is None
    assert await backend.actors.find_api_key(key.key_hash, NOW) is None


async def test_a_usable_key_is_found_by_its_hash_as_an_actor_with_its_scopes(backend: Backend) -> None:
    admin = await _admin(backend)
    key, _ = make_key(admin, scopes=READ_WRITE)
    await _save(backend, key)
    actor = await backend.actors.find_api_key(key.key_hash, NOW)
    assert actor is not None
    assert (actor.user_id, actor.session_id, actor.name, actor.is_admin) == (key.id, key.id, "Shop sync", False)
    assert actor.api_key_scopes == READ_WRITE
    assert await backend.actors.find_api_key("0" * 64, NOW) is None
    # A key is no sign-in session.
    assert await backend.actors.find(key.id, key.id, NOW) is None


async def test_an_expired_or_deleted_key_is_not_found(backend: Backend) -> None:
    admin = await _admin(backend)
    ends = NOW + timedelta(minutes=5)
    expiring, _ = make_key(admin, expires_at=ends)
    deleted, _ = make_key(admin)
    await _save(backend, expiring, deleted)
    assert await backend.actors.find_api_key(expiring.key_hash, ends - timedelta(microseconds=1)) is not None
    assert await backend.actors.find_api_key(expiring.key_hash, ends) is None
    async with backend.uow() as uow:
        await uow.api_keys.delete(deleted.id, NOW)
        await uow.commit()
    assert await backend.actors.find_api_key(deleted.key_hash, NOW) is None


async def test_the_last_use_only_moves_forward(backend: Backend) -> None:
    admin = await _admin(backend)
    key, _ = make_key(admin)
    await _save(backend, key)
    await backend.actors.record_api_key_use(key.id, NOW)
    await backend.actors.record_api_key_use(key.id, NOW - timedelta(minutes=1))
    async with backend.uow.for_reading() as uow:
        found = await uow.api_keys.get(key.id)
    assert found is not None
    assert found.last_used_at == NOW
    await backend.actors.record_api_key_use(uuid4(), NOW)  # an unknown key: nothing to do, no error


async def test_what_a_key_writes_shows_its_name_even_after_it_is_deleted(backend: Backend) -> None:
    admin = await _admin(backend)
    key, _ = make_key(admin, "Web shop", scopes=READ_WRITE)
    await _save(backend, key)
    actor = await backend.actors.find_api_key(key.key_hash, NOW)
    assert actor is not None
    key_ref = actor.ref
    details = CustomerDetails(PersonName("Ada"), PersonName("Lovelace"))
    customer = Customer.register(CustomerId("C-1"), details, by=key_ref, at=NOW)
    async with backend.uow() as uow:
        await uow.customers.add_with_history(customer, CustomerChange.created(customer))
        await uow.commit()
    async with backend.uow() as uow:
        await uow.api_keys.delete(key.id, NOW)
        await uow.commit()
    async with backend.uow.for_reading() as uow:
        found = await uow.customers.get(CustomerId("C-1"))
        history = await uow.customer_history.list(CustomerId("C-1"), 10)
    assert found is not None
    assert (found.created_by, found.updated_by) == (key_ref, key_ref)
    assert found.created_by.name == "Web shop"
    assert [change.by for change in history] == [key_ref]


async def test_the_event_of_a_keys_write_names_the_key(backend: Backend) -> None:
    admin = await _admin(backend)
    key, _ = make_key(admin, "Web shop", scopes=READ_WRITE)
    await _save(backend, key)
    async with backend.uow() as uow:
        await uow.webhooks.add(
            Webhook(
                uuid4(), "https://hooks.example.com/crm", ("*",), None, True, "whsec_" + "A" * 44, T0, admin.ref, T0
            )
        )
        await uow.commit()
    actor = await backend.actors.find_api_key(key.key_hash, NOW)
    assert actor is not None
    customer = Customer.register(CustomerId("C-1"), CustomerDetails(PersonName("Ada"), PersonName("L")), actor.ref, NOW)
    async with backend.uow() as uow:
        await uow.customers.add_with_history(customer, CustomerChange.created(customer))
        await uow.commit()
    async with backend.queue.claim(10, NOW) as claimed:
        [delivery] = claimed.deliveries
    by_key = {"id": str(key.id), "name": "Web shop"}
    assert (delivery.event.data["created_by"], delivery.event.data["updated_by"]) == (by_key, by_key)
