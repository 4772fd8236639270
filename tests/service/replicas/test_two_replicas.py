"""Revocation takes effect at once on every replica (api.md, "Access tokens are short-lived…").

Two ``crm serve`` processes, A and B, on one database. In each test a token is first used on B, so that B
has the actor in its cache; the change is then made through A; the next request on B with the old token
must see it. A control test shows that B really answers from its cache (a change that bypasses the
triggers goes unnoticed), so the other tests prove the notifications, not a cache that is never used.

"The next request" has one honest allowance: PostgreSQL hands a notification to B's listener connection
as the change commits, but on a loaded machine B's side may be scheduled a few milliseconds after the
test's next request (measured here: p50 under 0.1 ms, p99 1.6 ms, worst 15 ms with load 5 on 2 cores).
So a check repeats for at most GRACE seconds, far below the cache's 60 s max age; the control test shows
that without a notification B keeps answering 200 for all of GRACE. While B's listener is down, nothing
is allowed: every check there must pass on its first request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.service.api.helpers import PASSWORD, TOKEN_URL
from tests.service.replicas.conftest import Accounts, Listeners, Replica

ME = "/api/v1/users/me"
USERS = "/api/v1/users"  # admins only
GRACE = 0.5


@dataclass
class Session:
    access_token: str
    refresh_token: str
    user_id: str


def sign_in(replica: Replica, email: str) -> Session:
    response = replica.sign_in(email)
    assert response.status_code == 200, response.text
    body = response.json()
    me = replica.get(ME, body["access_token"])
    assert me.status_code == 200, me.text
    return Session(body["access_token"], body["refresh_token"], me.json()["id"])


def warm(replica: Replica, session: Session, url: str = ME) -> None:
    """Use the token on ``replica``, twice: its actor is now in that replica's cache."""
    for _ in range(2):
        response = replica.get(url, session.access_token)
        assert response.status_code == 200, response.text


def assert_status(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text


def soon(request: Callable[[], httpx.Response], status: int) -> httpx.Response:
    """The first response, or if it is not ``status`` yet, the first with it within GRACE (see above)."""
    deadline = time.monotonic() + GRACE
    while True:
        response = request()
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.002)


async def test_a_deleted_user_loses_access_on_the_other_replica_at_once(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    a, b = replicas
    admin = sign_in(a, await accounts.create(admin=True))
    user = sign_in(a, await accounts.create())
    warm(b, user)

    assert_status(a.client.delete(f"{USERS}/{user.user_id}", headers=_bearer(admin)), 204)

    response = soon(lambda: b.get(ME, user.access_token), 401)
    assert_status(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_demoted_admin_loses_admin_routes_on_the_other_replica_at_once(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    a, b = replicas
    admin = sign_in(a, await accounts.create(admin=True))
    demoted = sign_in(a, await accounts.create(admin=True))
    warm(b, demoted, USERS)

    patched = a.client.patch(f"{USERS}/{demoted.user_id}", json={"is_admin": False}, headers=_bearer(admin))
    assert_status(patched, 200)

    assert_status(soon(lambda: b.get(USERS, demoted.access_token), 403), 403)
    # Still signed in, as a non-admin.
    me = b.get(ME, demoted.access_token)
    assert_status(me, 200)
    assert me.json()["is_admin"] is False


async def test_a_renamed_user_is_seen_with_the_new_name_on_the_other_replica(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    """The cached actor's name is what customers' created_by/updated_by record: it must follow too."""
    a, b = replicas
    admin = sign_in(a, await accounts.create(admin=True, name="Old Name"))
    other_admin = sign_in(a, await accounts.create(admin=True))
    warm(b, admin)

    renamed = a.client.patch(f"{USERS}/{admin.user_id}", json={"name": "New Name"}, headers=_bearer(other_admin))
    assert_status(renamed, 200)

    deadline = time.monotonic() + GRACE  # see the module's docstring
    while True:
        customer = {"id": f"R-{uuid.uuid4().hex[:12]}", "name": "Carla", "surname": "Customer"}
        created = b.client.post("/api/v1/customers", json=customer, headers=_bearer(admin))
        assert_status(created, 201)
        if created.json()["created_by"]["name"] == "New Name" or time.monotonic() > deadline:
            break
    assert created.json()["created_by"] == {"id": admin.user_id, "name": "New Name"}


async def test_a_password_change_ends_the_other_sessions_on_the_other_replica_at_once(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    a, b = replicas
    email = await accounts.create()
    here, elsewhere = sign_in(a, email), sign_in(a, email)
    warm(b, here)
    warm(b, elsewhere)

    changed = a.client.post(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase 43"},
        headers=_bearer(here),
    )
    assert_status(changed, 204)

    assert_status(soon(lambda: b.get(ME, elsewhere.access_token), 401), 401)
    assert_status(b.get(ME, here.access_token), 200)


async def test_a_password_set_by_an_admin_ends_every_session_on_the_other_replica_at_once(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    a, b = replicas
    admin = sign_in(a, await accounts.create(admin=True))
    user = sign_in(a, await accounts.create())
    warm(b, user)

    patched = a.client.patch(
        f"{USERS}/{user.user_id}", json={"password": "set by the admin 2026"}, headers=_bearer(admin)
    )
    assert_status(patched, 200)

    assert_status(soon(lambda: b.get(ME, user.access_token), 401), 401)


async def test_a_revoked_refresh_token_ends_the_session_on_the_other_replica_at_once(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    a, b = replicas
    user = sign_in(a, await accounts.create())
    warm(b, user)

    assert_status(a.client.post("/api/v1/auth/revoke", data={"token": user.refresh_token}), 200)

    assert_status(soon(lambda: b.get(ME, user.access_token), 401), 401)


async def test_a_reused_refresh_token_ends_the_session_on_the_other_replica_at_once(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    a, b = replicas
    user = sign_in(a, await accounts.create())
    warm(b, user)
    refreshed = a.client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": user.refresh_token})
    assert_status(refreshed, 200)
    warm(b, Session(refreshed.json()["access_token"], "", user.user_id))

    # The rotated token again: one of the two presenters stole it, so the whole session ends.
    reused = a.client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": user.refresh_token})
    assert_status(reused, 400)

    assert_status(soon(lambda: b.get(ME, user.access_token), 401), 401)
    assert_status(b.get(ME, refreshed.json()["access_token"]), 401)  # same notification, already applied


async def test_control_the_other_replica_answers_from_its_cache(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts, engine: AsyncEngine
) -> None:
    """A revocation written with the triggers switched off is not announced: B keeps answering from memory
    (A, which never cached this session, asks the database and refuses)."""
    a, b = replicas
    user = sign_in(b, await accounts.create())
    warm(b, user)

    await _revoke_without_triggers(engine, user.user_id)

    assert_status(a.get(ME, user.access_token), 401)
    # For as long as the other tests may wait for a notification, B answers from memory.
    assert_status(soon(lambda: b.get(ME, user.access_token), 401), 200)


async def test_a_revocation_while_the_listener_is_down_is_still_honoured(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts, engine: AsyncEngine
) -> None:
    a, b = replicas
    user = sign_in(a, await accounts.create())
    warm(b, user)

    await listeners.kill(b)
    # Announced by nobody to B: B's listener is gone, and the triggers are even switched off.
    await _revoke_without_triggers(engine, user.user_id)
    assert_status(b.get(ME, user.access_token), 401)
    # ... and through A, announced to a B that is not listening.
    other = sign_in(a, await accounts.create())
    warm(b, other)
    assert_status(a.client.post("/api/v1/auth/revoke", data={"token": other.refresh_token}), 200)
    assert_status(b.get(ME, other.access_token), 401)
    assert not await listeners.backends(b), "B reconnected too early: the outage did not cover the revocations"

    # Back again (after a back-off of a second or so), B caches and is told of changes as before.
    await listeners.wait_for(b, present=True)
    assert_status(b.get(ME, user.access_token), 401)
    third = sign_in(a, await accounts.create())
    warm(b, third)
    assert_status(a.client.post("/api/v1/auth/revoke", data={"token": third.refresh_token}), 200)
    assert_status(soon(lambda: b.get(ME, third.access_token), 401), 401)


def _bearer(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.access_token}"}


async def _revoke_without_triggers(engine: AsyncEngine, user_id: str) -> None:
    """End the user's sessions behind every cache's back: ``session_replication_role = replica`` skips triggers."""
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        await connection.execute(
            text("UPDATE sign_in_sessions SET revoked_at = now() WHERE user_id = :user_id AND revoked_at IS NULL"),
            {"user_id": user_id},
        )


async def test_a_deleted_api_key_stops_on_the_other_replica_at_once(
    replicas: tuple[Replica, Replica], listeners: Listeners, accounts: Accounts
) -> None:
    a, b = replicas
    admin = sign_in(a, await accounts.create(admin=True))
    made = a.client.post(
        "/api/v1/api-keys", json={"name": "Shop sync", "scopes": ["customers:read"]}, headers=_bearer(admin)
    )
    assert_status(made, 201)
    key = Session(made.json()["key"], "", made.json()["id"])
    warm(b, key, "/api/v1/customers")

    assert_status(a.client.delete(f"/api/v1/api-keys/{key.user_id}", headers=_bearer(admin)), 204)

    response = soon(lambda: b.get("/api/v1/customers", key.access_token), 401)
    assert_status(response, 401)
    assert_status(a.get("/api/v1/customers", key.access_token), 401)
