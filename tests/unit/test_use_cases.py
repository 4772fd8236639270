"""The use cases as the requirements state them, on in-memory adapters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.security.passwords import Argon2PasswordHasher, HashingCost
from application.access.users import NewUser, UserChanges
from application.customers.editing import NewCustomer
from domain.errors import (
    Conflict,
    InvalidGrant,
    InvalidInput,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
)
from tests.unit.conftest import PASSWORD, Core


async def test_a_customer_records_who_created_and_who_last_changed_it(core: Core) -> None:
    alice = await core.actor(await core.user("alice@example.com", name="Alice", admin=True))
    bob = await core.actor(await core.user("bob@example.com", name="Bob"))
    created = await core.app.create_customer().execute(alice, NewCustomer("C-1", "Ada", "Lovelace"))
    assert created.created_by.name == "Alice" and created.updated_by.name == "Alice"
    core.clock.advance(timedelta(minutes=5))
    changed = await core.app.update_customer().execute(bob, "C-1", {"notes": "VIP"})
    assert changed.created_by.name == "Alice"
    assert changed.updated_by.name == "Bob"
    assert changed.updated_at - changed.created_at == timedelta(minutes=5)
    assert changed.version == 2


async def test_customer_ids_are_unique(core: Core) -> None:
    actor = await core.actor(await core.user())
    await core.app.create_customer().execute(actor, NewCustomer("C-1", "Ada", "Lovelace"))
    with pytest.raises(Conflict):
        await core.app.create_customer().execute(actor, NewCustomer("C-1", "Grace", "Hopper"))


async def test_stale_revisions_change_nothing(core: Core) -> None:
    actor = await core.actor(await core.user())
    customer = await core.app.create_customer().execute(actor, NewCustomer("C-1", "Ada", "Lovelace"))
    old = customer.revision
    await core.app.update_customer().execute(actor, "C-1", {"name": "Augusta"}, [old])
    with pytest.raises(PreconditionFailed):
        await core.app.update_customer().execute(actor, "C-1", {"name": "Lost"}, [old])
    with pytest.raises(PreconditionFailed):
        await core.app.delete_customer().execute(actor, "C-1", [old])
    assert (await core.app.get_customer().execute(actor, "C-1")).name == "Augusta"


async def test_listing_pages_through_every_customer_once(core: Core) -> None:
    actor = await core.actor(await core.user())
    for number in range(25):
        await core.app.create_customer().execute(actor, NewCustomer(f"C-{number:02}", "Name", f"Surname {number}"))
        core.clock.advance(timedelta(seconds=1))
    seen: list[str] = []
    cursor = None
    while True:
        page = await core.app.list_customers().execute(actor, limit=10, cursor=cursor)
        seen += [customer.id for customer in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"C-{number:02}" for number in reversed(range(25))]
    with pytest.raises(MalformedRequest):
        await core.app.list_customers().execute(actor, limit=10, cursor="garbage!")
    with pytest.raises(InvalidInput):
        await core.app.list_customers().execute(actor, limit=0)


async def test_only_admins_manage_users(core: Core) -> None:
    clerk = await core.actor(await core.user())
    with pytest.raises(PermissionDenied):
        await core.app.list_users().execute(clerk, limit=10)
    with pytest.raises(PermissionDenied):
        await core.app.create_user().execute(clerk, NewUser("x@example.com", "X"))
    with pytest.raises(PermissionDenied):
        await core.app.update_user().execute(clerk, clerk.user_id, UserChanges(is_admin=True))
    with pytest.raises(PermissionDenied):
        await core.app.delete_user().execute(clerk, clerk.user_id)


async def test_the_last_admin_stays(core: Core) -> None:
    admin = await core.actor(await core.user("admin@example.com", admin=True))
    with pytest.raises(Conflict):
        await core.app.update_user().execute(admin, admin.user_id, UserChanges(is_admin=False))
    with pytest.raises(Conflict):
        await core.app.delete_user().execute(admin, admin.user_id)
    second = await core.user("second@example.com", admin=True)
    await core.app.update_user().execute(admin, second.id, UserChanges(is_admin=False))
    with pytest.raises(Conflict):
        await core.app.delete_user().execute(admin, admin.user_id)


async def test_deleted_users_lose_access_and_free_their_email(core: Core) -> None:
    admin = await core.actor(await core.user("admin@example.com", admin=True))
    user = await core.user("gone@example.com")
    pair = await core.app.sign_in_with_password().execute("gone@example.com", PASSWORD)
    await core.app.delete_user().execute(admin, user.id)
    with pytest.raises(NotAuthenticated):
        await core.app.authenticate().execute(pair.access_token)
    with pytest.raises(InvalidGrant):
        await core.app.sign_in_with_password().execute("gone@example.com", PASSWORD)
    with pytest.raises(NotFound):
        await core.app.get_user().execute(admin, user.id)
    again = await core.user("GONE@example.com")
    assert again.id != user.id


async def test_refresh_tokens_rotate_and_expire(core: Core) -> None:
    await core.user()
    pair = await core.app.sign_in_with_password().execute("clerk@example.com", PASSWORD)
    second = await core.app.refresh_sign_in().execute(pair.refresh_token)
    with pytest.raises(InvalidGrant):
        await core.app.refresh_sign_in().execute(pair.refresh_token)
    # Reuse ended the whole session: the newer token is dead too.
    with pytest.raises(InvalidGrant):
        await core.app.refresh_sign_in().execute(second.refresh_token)
    fresh = await core.app.sign_in_with_password().execute("clerk@example.com", PASSWORD)
    core.clock.advance(timedelta(days=15))
    with pytest.raises(InvalidGrant):
        await core.app.refresh_sign_in().execute(fresh.refresh_token)


async def test_a_session_ends_at_its_lifetime_however_often_refreshed(core: Core) -> None:
    await core.user()
    pair = await core.app.sign_in_with_password().execute("clerk@example.com", PASSWORD)
    for _ in range(3):
        core.clock.advance(timedelta(days=9))
        pair = await core.app.refresh_sign_in().execute(pair.refresh_token)
    core.clock.advance(timedelta(days=4))  # 31 days after signing in
    with pytest.raises(InvalidGrant):
        await core.app.refresh_sign_in().execute(pair.refresh_token)


async def test_outdated_password_hashes_are_upgraded_at_sign_in(core: Core) -> None:
    user = await core.user()
    stronger = Argon2PasswordHasher(HashingCost(time_cost=2, memory_kib=2048, parallelism=1))
    core.app.password_hasher.override(stronger)
    core.app.sign_in_with_password.reset()
    await core.app.sign_in_with_password().execute(user.email, PASSWORD)
    async with core.app.adapters.unit_of_work()() as uow:
        stored = await uow.users.get(user.id)
    assert stored is not None and stored.password_hash is not None
    assert "m=2048,t=2" in stored.password_hash
    assert not stronger.needs_rehash(stored.password_hash)


async def test_bootstrap_admin_only_while_none_exists(core: Core) -> None:
    first = await core.app.bootstrap_first_admin().execute("root@example.com", "Root", PASSWORD)
    assert first is not None and first.is_admin
    assert await core.app.bootstrap_first_admin().execute("other@example.com", "Other", PASSWORD) is None
