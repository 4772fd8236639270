"""API keys over HTTP (contract 1.1): admins make them, scripts use them on customers and nowhere else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.service.api.helpers import SignedIn, assert_problem

KEYS = "/api/v1/api-keys"
CUSTOMERS = "/api/v1/customers"
READ_WRITE = ["customers:read", "customers:write"]


def make_key(admin: SignedIn, scopes: list[str] = READ_WRITE, name: str = "Shop sync", **extra: Any) -> dict[str, Any]:
    response = admin.post(KEYS, json={"name": name, "scopes": scopes, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def as_key(client: httpx.Client, key: dict[str, Any]) -> SignedIn:
    """A client that sends the API key as its bearer token, as a script would."""
    return SignedIn(client, key["key"], "", key["id"])


def assert_insufficient_scope(response: httpx.Response) -> None:
    problem = assert_problem(response, 403)
    assert problem["type"].endswith("insufficient-scope"), problem


async def test_an_admin_makes_a_key_and_sees_it_only_once(admin: SignedIn) -> None:
    response = admin.post(KEYS, json={"name": "Shop sync", "scopes": ["customers:read"]})
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["key"].startswith("crm_")
    assert len(made["key"]) == 47
    assert made["prefix"] == made["key"][:12]
    assert (made["name"], made["scopes"], made["expires_at"], made["last_used_at"]) == (
        "Shop sync",
        ["customers:read"],
        None,
        None,
    )
    assert made["created_by"]["id"] == admin.user_id
    assert response.headers["location"] == f"{KEYS}/{made['id']}"
    assert response.headers["cache-control"] == "no-store"

    listed = admin.get(KEYS)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert "key" not in item
    assert made["key"] not in listed.text
    assert {name: item[name] for name in item} == {name: made[name] for name in item}


async def test_the_expiry_is_kept_and_shown_in_utc(admin: SignedIn) -> None:
    made = make_key(admin, expires_at="2999-06-01T14:00:00+02:00")
    assert made["expires_at"] == "2999-06-01T12:00:00Z"
    assert admin.get(KEYS).json()["items"][0]["expires_at"] == "2999-06-01T12:00:00Z"


async def test_the_key_is_stored_nowhere_in_the_clear(admin: SignedIn, clean_database: AsyncEngine) -> None:
    made = admin.post(KEYS, json={"name": "Sync", "scopes": READ_WRITE}, headers={"Idempotency-Key": "k-1"})
    assert made.status_code == 201, made.text
    replay = admin.post(KEYS, json={"name": "Sync", "scopes": READ_WRITE}, headers={"Idempotency-Key": "k-1"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == made.json()
    secret = made.json()["key"]
    async with clean_database.connect() as connection:
        dump = await connection.execute(
            text("SELECT string_agg(row_to_json(t)::text, ' ') FROM (SELECT * FROM api_keys) t")
        )
        answers = await connection.execute(text("SELECT body FROM idempotency_records"))
        stored = [bytes(row.body) for row in answers]
    assert secret not in str(dump.scalar_one())
    assert stored
    assert all(secret.encode() not in body for body in stored)


async def test_a_key_reads_and_writes_customers_under_its_own_name(admin: SignedIn, client: httpx.Client) -> None:
    made = make_key(admin)
    script = as_key(client, made)
    created = script.post(CUSTOMERS, json={"id": "C-1", "name": "Ada", "surname": "Lovelace"})
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == {"id": made["id"], "name": "Shop sync"}
    changed = script.patch(f"{CUSTOMERS}/C-1", json={"notes": "Called"}, headers={"If-Match": created.headers["etag"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["updated_by"] == {"id": made["id"], "name": "Shop sync"}
    assert script.get(CUSTOMERS).json()["items"][0]["id"] == "C-1"
    history = script.get(f"{CUSTOMERS}/C-1/history")
    assert history.status_code == 200, history.text
    assert {entry["actor"]["name"] for entry in history.json()["items"]} == {"Shop sync"}
    # People see the key's name too.
    assert admin.get(f"{CUSTOMERS}/C-1").json()["updated_by"]["name"] == "Shop sync"
    assert script.delete(f"{CUSTOMERS}/C-1").status_code == 204
    assert script.get(f"{CUSTOMERS}/trash").json()["items"][0]["deleted_by"]["name"] == "Shop sync"
    assert script.post(f"{CUSTOMERS}/C-1/restore").status_code == 200
    exported = script.get(f"{CUSTOMERS}/export")
    assert exported.status_code == 200, exported.text
    assert "C-1" in exported.text
    # The admin list shows when the key was last used.
    assert admin.get(KEYS).json()["items"][0]["last_used_at"] is not None


async def test_a_missing_scope_is_refused_with_insufficient_scope(admin: SignedIn, client: httpx.Client) -> None:
    admin.post(CUSTOMERS, json={"id": "C-1", "name": "Ada", "surname": "Lovelace"})
    reader = as_key(client, make_key(admin, ["customers:read"]))
    writer = as_key(client, make_key(admin, ["customers:write"]))
    assert reader.get(f"{CUSTOMERS}/C-1").status_code == 200
    assert_insufficient_scope(reader.post(CUSTOMERS, json={"id": "C-2", "name": "Bo", "surname": "B"}))
    assert_insufficient_scope(reader.delete(f"{CUSTOMERS}/C-1"))
    assert_insufficient_scope(writer.get(f"{CUSTOMERS}/C-1"))
    assert_insufficient_scope(writer.get(CUSTOMERS))
    assert writer.post(CUSTOMERS, json={"id": "C-2", "name": "Bo", "surname": "B"}).status_code == 201
    # Erasure is for admins: no scope allows it.
    assert_insufficient_scope(writer.delete(f"{CUSTOMERS}/C-1", params={"erase": "true"}))


def _operations(client: httpx.Client) -> list[tuple[str, str, bool]]:
    """Every operation under /api/v1 in the document: method, path and whether it takes API keys."""
    document = client.get("/docs/openapi.json").json()
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/v1/") and method in ("get", "post", "put", "patch", "delete"):
                takes_keys = {"ApiKey": []} in operation.get("security", [])
                found.append((method.upper(), path, takes_keys))
    return found


async def test_no_endpoint_but_the_customers_takes_a_key(admin: SignedIn, client: httpx.Client) -> None:
    script = as_key(client, make_key(admin))
    operations = _operations(client)
    takes_keys = sorted(path for _, path, takes in operations if takes)
    assert takes_keys
    assert all(path.startswith(CUSTOMERS) for path in takes_keys), takes_keys
    refusing = [(method, path) for method, path, takes in operations if not takes]
    assert {path for _, path in refusing} >= {"/api/v1/users", "/api/v1/users/me", "/api/v1/webhooks", KEYS}
    for method, path in refusing:
        url = path.replace("{", "").replace("}", "").replace(":uuid", "")
        for name in ("user_id", "webhook_id", "delivery_id", "api_key_id"):
            url = url.replace(name, "00000000-0000-4000-8000-000000000000")
        response = script.client.request(method, url, headers=script.headers, json={})
        assert_insufficient_scope(response)


async def test_a_deleted_key_is_refused_at_once(admin: SignedIn, client: httpx.Client) -> None:
    made = make_key(admin)
    script = as_key(client, made)
    assert script.get(CUSTOMERS).status_code == 200
    assert admin.delete(f"{KEYS}/{made['id']}").status_code == 204
    refused = assert_problem(script.get(CUSTOMERS), 401)
    assert "API key" in refused["detail"]
    assert admin.get(KEYS).json()["items"] == []
    assert_problem(admin.delete(f"{KEYS}/{made['id']}"), 404)


@pytest.mark.parametrize("credential", ["crm_", "crm_" + "A" * 43, "crm_not a key", "crm_" + "x" * 2000])
async def test_an_unknown_key_is_401(client: httpx.Client, credential: str) -> None:
    response = client.get(CUSTOMERS, headers={"Authorization": f"Bearer {credential}"})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_only_admins_manage_keys(admin: SignedIn, clerk: SignedIn) -> None:
    forbidden = assert_problem(clerk.post(KEYS, json={"name": "Mine", "scopes": READ_WRITE}), 403)
    assert forbidden["type"].endswith("forbidden")
    assert_problem(clerk.get(KEYS), 403)
    made = make_key(admin)
    assert_problem(clerk.delete(f"{KEYS}/{made['id']}"), 403)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "Sync", "scopes": ["users:write"]}, 422, "scopes"),
        ({"name": "Sync", "scopes": []}, 422, "scopes"),
        ({"name": "", "scopes": READ_WRITE}, 422, "name"),
        ({"name": "   ", "scopes": READ_WRITE}, 422, "name"),
        ({"name": "Tab\tname", "scopes": READ_WRITE}, 422, "name"),
        ({"name": "x" * 101, "scopes": READ_WRITE}, 422, "name"),
        ({"name": "Sync", "scopes": READ_WRITE, "expires_at": "2000-01-01T00:00:00Z"}, 422, "expires_at"),
        # Without a time zone the instant is unknown.
        ({"name": "Sync", "scopes": READ_WRITE, "expires_at": "2999-01-01T00:00:00"}, 422, "expires_at"),
        ({"name": "Sync", "scopes": READ_WRITE, "admin": True}, 422, "admin"),
        ({"scopes": READ_WRITE}, 422, "name"),
    ],
)
async def test_a_bad_request_is_refused_and_makes_no_key(
    admin: SignedIn, body: dict[str, Any], status: int, field: str | None
) -> None:
    assert_problem(admin.post(KEYS, json=body), status, field)
    assert admin.get(KEYS).json()["items"] == []
