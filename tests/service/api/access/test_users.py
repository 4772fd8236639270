"""Users: the caller's own account, and admin user management with the last-admin rule."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.service.api.conftest import Accounts
from tests.service.api.helpers import PASSWORD, SignedIn, assert_problem, password_grant, sign_in

NEW_PASSWORD = "a whole new passphrase 77"


def test_me_shows_the_caller_without_secrets(clerk: SignedIn) -> None:
    response = clerk.get("/api/v1/users/me")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "email", "name", "is_admin", "created_at", "updated_at", "version"}
    assert body["name"] == "Bob Clerk"
    assert body["is_admin"] is False
    assert body["created_at"].endswith("Z")
    assert response.headers["cache-control"] == "no-store"


async def test_changing_my_password_ends_my_other_sessions(accounts: Accounts, client: httpx.Client) -> None:
    user = await accounts.user()
    here, elsewhere = sign_in(client, user.email), sign_in(client, user.email)
    response = here.post("/api/v1/users/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 204
    assert here.get("/api/v1/users/me").status_code == 200
    assert_problem(elsewhere.get("/api/v1/users/me"), 401)
    assert password_grant(client, user.email, PASSWORD).status_code == 400
    assert password_grant(client, user.email, NEW_PASSWORD).status_code == 200


def test_changing_my_password_checks_the_current_one_and_the_policy(clerk: SignedIn) -> None:
    url = "/api/v1/users/me/password"
    wrong = clerk.post(url, json={"current_password": "not my password", "new_password": NEW_PASSWORD})
    assert_problem(wrong, 422, "current_password")
    for weak in ("short", "password1234", "aaaaaaaaaaaaaaaa", "x" * 1025):
        assert_problem(clerk.post(url, json={"current_password": PASSWORD, "new_password": weak}), 422, "new_password")
    assert_problem(clerk.post(url, json={"current_password": PASSWORD}), 422, "new_password")


def test_admins_create_list_read_change_and_delete_users(admin: SignedIn, client: httpx.Client) -> None:
    created = admin.post("/api/v1/users", json={"email": "Carol@Example.com", "name": "Carol", "password": PASSWORD})
    assert created.status_code == 201
    carol = created.json()
    assert created.headers["location"] == f"/api/v1/users/{carol['id']}"
    assert carol["is_admin"] is False and carol["version"] == 1
    assert "password" not in created.text and "argon2" not in created.text

    assert admin.get(f"/api/v1/users/{carol['id']}").json() == carol
    listed = admin.get("/api/v1/users", params={"q": "carol"}).json()
    assert [user["id"] for user in listed["items"]] == [carol["id"]]

    changed = admin.patch(f"/api/v1/users/{carol['id']}", json={"name": "Carol Smith", "is_admin": True})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Carol Smith"
    assert changed.json()["is_admin"] is True
    assert changed.json()["version"] == 2
    admins = admin.get("/api/v1/users", params={"is_admin": "true"}).json()["items"]
    assert carol["id"] in {user["id"] for user in admins}

    assert admin.delete(f"/api/v1/users/{carol['id']}").status_code == 204
    assert_problem(admin.get(f"/api/v1/users/{carol['id']}"), 404)
    # The e-mail is free again.
    again = admin.post("/api/v1/users", json={"email": "carol@example.com", "name": "Carol Two"})
    assert again.status_code == 201


def test_duplicate_emails_conflict_case_insensitively(admin: SignedIn) -> None:
    assert admin.post("/api/v1/users", json={"email": "dup@example.com", "name": "One"}).status_code == 201
    assert_problem(admin.post("/api/v1/users", json={"email": "DUP@example.com", "name": "Two"}), 409)
    other = admin.post("/api/v1/users", json={"email": "other@example.com", "name": "Other"}).json()
    assert_problem(admin.patch(f"/api/v1/users/{other['id']}", json={"email": "Dup@Example.com"}), 409)


def test_user_input_is_validated(admin: SignedIn) -> None:
    assert_problem(admin.post("/api/v1/users", json={"email": "nope", "name": "X"}), 422, "email")
    assert_problem(admin.post("/api/v1/users", json={"email": "a@example.com", "name": " "}), 422, "name")
    assert_problem(
        admin.post("/api/v1/users", json={"email": "a@example.com", "name": "A", "password": "short"}), 422, "password"
    )
    assert_problem(admin.post("/api/v1/users", json={"email": "a@example.com", "name": "A", "role": "x"}), 422, "role")
    assert_problem(admin.post("/api/v1/users", json={"email": "a@example.com", "name": "A\u0000B"}), 422, "name")
    # A million-character password is refused before any hashing.
    huge = admin.post("/api/v1/users", json={"email": "a@example.com", "name": "A", "password": "p" * 5000})
    assert huge.status_code == 422
    assert_problem(admin.get("/api/v1/users/not-a-uuid"), 404)


async def test_an_admin_changes_a_password_and_all_sessions_of_that_user_end(
    accounts: Accounts, client: httpx.Client, admin: SignedIn
) -> None:
    user = await accounts.user()
    session = sign_in(client, user.email)
    assert admin.patch(f"/api/v1/users/{user.id}", json={"password": NEW_PASSWORD}).status_code == 200
    assert_problem(session.get("/api/v1/users/me"), 401)
    assert password_grant(client, user.email, NEW_PASSWORD).status_code == 200


async def test_a_demoted_admin_loses_admin_access_at_once(accounts: Accounts, admin: SignedIn) -> None:
    other = await accounts.signed_in(admin=True)
    assert other.get("/api/v1/users").status_code == 200
    assert admin.patch(f"/api/v1/users/{other.user_id}", json={"is_admin": False}).status_code == 200
    assert_problem(other.get("/api/v1/users"), 403)
    assert other.get("/api/v1/customers").status_code == 200


def test_the_last_admin_can_be_neither_demoted_nor_deleted(admin: SignedIn) -> None:
    assert_problem(admin.patch(f"/api/v1/users/{admin.user_id}", json={"is_admin": False}), 409)
    assert_problem(admin.delete(f"/api/v1/users/{admin.user_id}"), 409)
    assert admin.get("/api/v1/users/me").json()["is_admin"] is True


@pytest.mark.parametrize("action", ["demote", "delete"])
async def test_two_admins_removing_each_other_at_once_leave_one(
    accounts: Accounts, admin: SignedIn, base_url: str, action: str
) -> None:
    other = await accounts.signed_in(admin=True)

    async def remove(actor: SignedIn, target: str) -> int:
        async with httpx.AsyncClient(base_url=base_url, headers=actor.headers) as client:
            if action == "demote":
                response = await client.patch(f"/api/v1/users/{target}", json={"is_admin": False})
            else:
                response = await client.delete(f"/api/v1/users/{target}")
            return response.status_code

    statuses = await asyncio.gather(remove(admin, other.user_id), remove(other, admin.user_id))
    # One wins; the other is refused by the rule (409) or, if the winner got there first, is no longer
    # an admin (403) or no longer exists (401).
    assert tuple(sorted(statuses)) in {(200, 403), (200, 409), (204, 401), (204, 409)}, statuses
    async with accounts.container.adapters.unit_of_work()() as uow:
        assert await uow.users.count_active_admins() == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("GET", "/api/v1/users/00000000-0000-4000-8000-000000000000"),
        ("PATCH", "/api/v1/users/00000000-0000-4000-8000-000000000000"),
        ("DELETE", "/api/v1/users/00000000-0000-4000-8000-000000000000"),
    ],
)
def test_admin_routes_are_closed_to_clerks_and_anonymous_callers(
    clerk: SignedIn, client: httpx.Client, method: str, url: str
) -> None:
    body = {"email": "x@example.com", "name": "X"} if method in ("POST", "PATCH") else None
    assert_problem(client.request(method, url, json=body), 401)
    assert_problem(client.request(method, url, json=body, headers=clerk.headers), 403)
