"""API keys in the core, on the in-memory adapters: making, using, scoping and deleting them."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from application.access.api_keys import IssuedApiKey, NewApiKey
from application.access.users import NewUser
from application.customers.editing import NewCustomer
from application.integrations.webhooks import NewWebhook
from domain.api_keys import ApiKeyScope, hash_of_api_key
from domain.errors import InsufficientScope, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from domain.sign_in import Actor
from tests.unit.conftest import Core

READ_WRITE = ["customers:read", "customers:write"]


async def _admin(core: Core) -> Actor:
    return await core.actor(await core.user("root@example.com", admin=True, name="Root"))


async def _issue(
    core: Core, admin: Actor, scopes: list[str] = READ_WRITE, *, expires_at: datetime | None = None
) -> IssuedApiKey:
    return await core.app.create_api_key().execute(admin, NewApiKey("Shop sync", scopes, expires_at))


async def test_a_new_key_is_shown_once_and_kept_only_as_its_hash(core: Core) -> None:
    admin = await _admin(core)
    issued = await _issue(core, admin)
    assert issued.key.startswith("crm_")
    # 32 random bytes in unpadded base64url.
    assert len(issued.key) == len("crm_") + 43
    assert issued.api_key.prefix == issued.key[:12]
    assert issued.api_key.key_hash == hash_of_api_key(issued.key)
    assert issued.key not in repr(issued.api_key)
    page = await core.app.list_api_keys().execute(admin, limit=10)
    assert [key.id for key in page.items] == [issued.api_key.id]
    assert page.items[0].created_by.name == "Root"


async def test_every_key_is_different(core: Core) -> None:
    admin = await _admin(core)
    keys = {(await _issue(core, admin)).key for _ in range(20)}
    assert len(keys) == 20


async def test_a_key_acts_on_customers_and_signs_its_writes_with_its_name(core: Core) -> None:
    issued = await _issue(core, await _admin(core))
    key = await core.app.authenticate().execute(issued.key)
    assert key.is_api_key
    assert (key.user_id, key.name, key.is_admin) == (issued.api_key.id, "Shop sync", False)
    created = await core.app.create_customer().execute(key, NewCustomer("C-1", "Ada", "Lovelace"))
    assert (created.created_by.id, created.created_by.name) == (issued.api_key.id, "Shop sync")
    read = await core.app.get_customer().execute(key, "C-1")
    assert read.updated_by.name == "Shop sync"
    history = await core.app.list_customer_history().execute(key, "C-1", limit=10)
    assert [change.by.name for change in history.items] == ["Shop sync"]


@pytest.mark.parametrize(
    ("scopes", "may_read", "may_write"),
    [(["customers:read"], True, False), (["customers:write"], False, True), (READ_WRITE, True, True)],
)
async def test_each_scope_allows_what_it_names_and_nothing_more(
    core: Core, scopes: list[str], may_read: bool, may_write: bool
) -> None:
    admin = await _admin(core)
    await core.app.create_customer().execute(admin, NewCustomer("C-1", "Ada", "Lovelace"))
    key = await core.app.authenticate().execute((await _issue(core, admin, scopes)).key)

    async def read() -> object:
        return await core.app.get_customer().execute(key, "C-1")

    async def write() -> object:
        return await core.app.update_customer().execute(key, "C-1", {"notes": "Called"})

    for allowed, attempt, scope in ((may_read, read, "customers:read"), (may_write, write, "customers:write")):
        if allowed:
            await attempt()
        else:
            with pytest.raises(InsufficientScope, match=scope):
                await attempt()


async def test_a_key_never_manages_users_webhooks_keys_or_an_account_and_never_erases(core: Core) -> None:
    admin = await _admin(core)
    await core.app.create_customer().execute(admin, NewCustomer("C-1", "Ada", "Lovelace"))
    key = await core.app.authenticate().execute((await _issue(core, admin)).key)
    attempts = [
        core.app.list_users().execute(key, limit=10),
        core.app.create_user().execute(key, NewUser("new@example.com", "New", "a long enough password 1")),
        core.app.create_webhook().execute(key, NewWebhook("https://example.com/hook", ["*"])),
        core.app.list_api_keys().execute(key, limit=10),
        core.app.create_api_key().execute(key, NewApiKey("Escalation", READ_WRITE)),
        core.app.who_am_i().execute(key),
        core.app.erase_customer().execute(key, "C-1"),
    ]
    for attempt in attempts:
        with pytest.raises(InsufficientScope):
            await attempt


async def test_only_admins_manage_keys(core: Core) -> None:
    clerk = await core.actor(await core.user("clerk@example.com"))
    with pytest.raises(PermissionDenied) as refused:
        await core.app.create_api_key().execute(clerk, NewApiKey("Mine", READ_WRITE))
    assert not isinstance(refused.value, InsufficientScope)
    with pytest.raises(PermissionDenied):
        await core.app.list_api_keys().execute(clerk, limit=10)
    issued = await _issue(core, await _admin(core))
    with pytest.raises(PermissionDenied):
        await core.app.delete_api_key().execute(clerk, str(issued.api_key.id))


async def test_a_deleted_key_stops_at_once_but_what_it_wrote_keeps_its_name(core: Core) -> None:
    admin = await _admin(core)
    issued = await _issue(core, admin)
    key = await core.app.authenticate().execute(issued.key)
    await core.app.create_customer().execute(key, NewCustomer("C-1", "Ada", "Lovelace"))
    await core.app.delete_api_key().execute(admin, str(issued.api_key.id))
    with pytest.raises(NotAuthenticated):
        await core.app.authenticate().execute(issued.key)
    assert (await core.app.list_api_keys().execute(admin, limit=10)).items == []
    customer = await core.app.get_customer().execute(admin, "C-1")
    assert customer.created_by.name == "Shop sync"
    with pytest.raises(NotFound):
        await core.app.delete_api_key().execute(admin, str(issued.api_key.id))
    with pytest.raises(NotFound):
        await core.app.delete_api_key().execute(admin, str(uuid4()))
    with pytest.raises(NotFound):
        await core.app.delete_api_key().execute(admin, "not-a-uuid")


async def test_a_key_works_until_its_expiry_and_not_after(core: Core) -> None:
    expires = core.clock.now() + timedelta(hours=1)
    issued = await _issue(core, await _admin(core), expires_at=expires)
    assert (await core.app.authenticate().execute(issued.key)).user_id == issued.api_key.id
    core.clock.advance(timedelta(hours=1))
    with pytest.raises(NotAuthenticated, match="unknown, expired or deleted"):
        await core.app.authenticate().execute(issued.key)


async def test_unknown_keys_are_refused(core: Core) -> None:
    await _issue(core, await _admin(core))
    for credential in ("crm_", "crm_" + "A" * 43, "crm_nonsense"):
        with pytest.raises(NotAuthenticated):
            await core.app.authenticate().execute(credential)


async def test_bad_requests_name_every_problem(core: Core) -> None:
    admin = await _admin(core)
    with pytest.raises(InvalidInput) as refused:
        await core.app.create_api_key().execute(
            admin, NewApiKey("  ", ["customers:read", "users:write"], core.clock.now() - timedelta(seconds=1))
        )
    assert {problem.field for problem in refused.value.problems} == {"name", "scopes", "expires_at"}
    for name, scopes in (("x" * 101, READ_WRITE), ("Tab\tname", READ_WRITE), ("Fine", [])):
        with pytest.raises(InvalidInput):
            await core.app.create_api_key().execute(admin, NewApiKey(name, scopes))


async def test_duplicate_scopes_collapse(core: Core) -> None:
    issued = await _issue(core, await _admin(core), ["customers:read", "customers:read"])
    assert issued.api_key.scopes == frozenset({ApiKeyScope.CUSTOMERS_READ})


async def test_last_use_is_written_at_most_once_a_minute(core: Core) -> None:
    admin = await _admin(core)
    issued = await _issue(core, admin)
    first_use = core.clock.now()

    async def last_used() -> object:
        (listed,) = (await core.app.list_api_keys().execute(admin, limit=10)).items
        return listed.last_used_at

    assert await last_used() is None
    await core.app.authenticate().execute(issued.key)
    assert await last_used() == first_use
    core.clock.advance(timedelta(seconds=59))
    await core.app.authenticate().execute(issued.key)
    assert await last_used() == first_use
    core.clock.advance(timedelta(seconds=1))
    await core.app.authenticate().execute(issued.key)
    assert await last_used() == first_use + timedelta(minutes=1)
