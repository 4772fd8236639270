"""The trash and erasure over HTTP: delete, list, restore whole; erase for good, leaving nothing personal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.service.api.customers.test_photos import image_bytes, stored_files
from tests.service.api.helpers import SignedIn, assert_problem, walk_pages

CUSTOMER = "/api/v1/customers/C-1"
TRASH = "/api/v1/customers/trash"


def _create(user: SignedIn, customer_id: str = "C-1", **fields: Any) -> dict[str, Any]:
    body = {"id": customer_id, "name": "Ada", "surname": "Lovelace", "email": "ada@example.com", **fields}
    response = user.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_delete_list_the_trash_and_restore_gives_the_customer_back_whole(
    clerk: SignedIn, admin: SignedIn, client: httpx.Client
) -> None:
    _create(clerk, phone="+44 20 7946 0000", notes="Prefers post.")
    uploaded = clerk.put(f"{CUSTOMER}/photo", content=image_bytes(), headers={"Content-Type": "image/jpeg"})
    assert uploaded.status_code == 200
    read_before = clerk.get(CUSTOMER)
    before = read_before.json()

    assert admin.delete(CUSTOMER).status_code == 204
    assert_problem(clerk.get(CUSTOMER), 404)
    assert clerk.get("/api/v1/customers", params={"q": "lovelace"}).json()["items"] == []
    assert_problem(clerk.post(f"{CUSTOMER}/photo"), 405) if False else None

    trash = clerk.get(TRASH)
    assert trash.status_code == 200
    [item] = trash.json()["items"]
    assert item["deleted_by"] == {"id": admin.user_id, "name": "Alice Admin"}
    assert item["deleted_at"].endswith("Z")
    assert {key: item[key] for key in ("id", "name", "surname", "email", "phone", "notes", "version")} == {
        key: before[key] for key in ("id", "name", "surname", "email", "phone", "notes", "version")
    }

    restored = clerk.post(f"{CUSTOMER}/restore")
    assert restored.status_code == 200, restored.text
    after = restored.json()
    assert after["version"] == before["version"] + 1
    # A new version: an ETag read before the deletion no longer matches.
    assert restored.headers["etag"] == clerk.get(CUSTOMER).headers["etag"] != read_before.headers["etag"]
    unchanged = ("id", "name", "surname", "email", "phone", "notes", "created_at", "created_by")
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}
    assert after["updated_by"] == {"id": clerk.user_id, "name": "Bob Clerk"}
    # The photo is back, and its URL loads without a token.
    photo = client.get(after["photo_url"])
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert clerk.get(TRASH).json()["items"] == []

    kinds = [entry["kind"] for entry in clerk.get(f"{CUSTOMER}/history").json()["items"]]
    assert kinds == ["restored", "deleted", "photo_changed", "created"]
    assert_problem(clerk.post(f"{CUSTOMER}/restore"), 404)


def test_the_trash_pages_newest_first_and_a_trashed_id_stays_taken(clerk: SignedIn) -> None:
    for n in range(5):
        _create(clerk, f"C-{n}")
        assert clerk.delete(f"/api/v1/customers/C-{n}").status_code == 204
    pages = walk_pages(clerk, f"{TRASH}?limit=2")
    assert [len(page["items"]) for page in pages] == [2, 2, 1]
    assert [item["id"] for page in pages for item in page["items"]] == [f"C-{n}" for n in reversed(range(5))]

    taken = clerk.post("/api/v1/customers", json={"id": "C-3", "name": "Grace", "surname": "Hopper"})
    assert "trash" in assert_problem(taken, 409)["detail"]
    assert_problem(clerk.post("/api/v1/customers/nobody/restore"), 404)
    assert_problem(clerk.get(f"{TRASH}?cursor=nonsense"), 400)


def test_only_admins_erase(clerk: SignedIn) -> None:
    _create(clerk)
    assert_problem(clerk.delete(CUSTOMER, params={"erase": "true"}), 403)
    assert clerk.get(CUSTOMER).status_code == 200
    assert_problem(clerk.delete("/api/v1/customers/C-404", params={"erase": "maybe"}), 400)


PERSONAL = ["Zebulon", "Quixmarple", "zq@example.org", "old-zq@example.org", "+44 1234 567890", "Allergic to cats"]


async def _text_columns(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json')"
            )
        )
        return [(row.table_name, row.column_name) for row in rows]


async def _where_found(engine: AsyncEngine, value: str) -> list[str]:
    found = []
    async with engine.connect() as connection:
        for table, column in await _text_columns(engine):
            hits = await connection.scalar(
                text(f'SELECT count(*) FROM "{table}" WHERE strpos(lower("{column}"::text), lower(:value)) > 0'),
                {"value": value},
            )
            if hits:
                found.append(f"{table}.{column}")
    return found


async def _event_types(engine: AsyncEngine, subject: str) -> list[str]:
    async with engine.connect() as connection:
        found = await connection.scalars(
            text("SELECT type FROM webhook_events WHERE subject = :subject ORDER BY seq"), {"subject": subject}
        )
        return list(found)


async def test_the_import_the_trash_and_a_restore_reach_the_outbox(
    clerk: SignedIn, admin: SignedIn, engine: AsyncEngine
) -> None:
    subscribed = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/crm", "events": ["*"]})
    assert subscribed.status_code == 201, subscribed.text
    csv = "id,name,surname,email\r\nC-1,Ada,Lovelace,ada@example.com\r\nC-2,Grace,Hopper,\r\n"
    imported = clerk.post("/api/v1/customers/import", content=csv, headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    changed = csv.replace("Hopper", "King")
    imported = clerk.post(
        "/api/v1/customers/import", content=changed, headers={"Content-Type": "text/csv"}, params={"mode": "upsert"}
    )
    assert (imported.status_code, imported.json()["updated"]) == (200, 1), imported.text
    assert clerk.delete(CUSTOMER).status_code == 204
    assert clerk.post(f"{CUSTOMER}/restore").status_code == 200

    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT subject, type, data FROM webhook_events ORDER BY seq"))).all()
    ada = [(row.type, row.data) for row in rows if row.subject == "customer:C-1"]
    grace = [(row.type, row.data) for row in rows if row.subject == "customer:C-2"]
    assert [event_type for event_type, _ in ada] == ["customer.created", "customer.deleted", "customer.restored"]
    assert ada[1][1] == {"id": "C-1"}
    restored = ada[2][1]
    assert (restored["email"], restored["version"], restored["updated_by"]["name"]) == (
        "ada@example.com",
        2,
        "Bob Clerk",
    )
    assert [event_type for event_type, _ in grace] == ["customer.created", "customer.updated"]
    assert grace[1][1]["changes"] == [{"field": "surname", "old": "Hopper", "new": "King"}]
    assert grace[0][1]["created_by"] == {"id": clerk.user_id, "name": "Bob Clerk"}


@pytest.mark.parametrize("trashed_first", [False, True])
async def test_an_erased_customers_personal_values_are_nowhere_in_the_database(
    clerk: SignedIn, admin: SignedIn, engine: AsyncEngine, photo_dir: Any, trashed_first: bool
) -> None:
    # A webhook for every event, so that each change below also lands in the outbox (webhook_events).
    subscribed = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/crm", "events": ["*"]})
    assert subscribed.status_code == 201, subscribed.text
    _create(clerk, name="Zebulon", surname="Quixmarple", email="old-zq@example.org", phone="+44 1234 567890")
    patched = clerk.patch(
        CUSTOMER, json={"email": "zq@example.org"}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert patched.status_code == 200
    clerk.put(f"{CUSTOMER}/photo", content=image_bytes(), headers={"Content-Type": "image/jpeg"})
    imported = clerk.post(
        "/api/v1/customers/import",
        content="id,name,surname,notes\r\nC-1,Zebulon,Quixmarple,Allergic to cats\r\n",
        headers={"Content-Type": "text/csv"},
        params={"mode": "upsert"},
    )
    assert imported.status_code == 200, imported.text
    _create(clerk, "C-2", name="Other", surname="Person")
    if trashed_first:
        assert clerk.delete(CUSTOMER).status_code == 204
    kinds = ["created", "updated", "photo_changed", "updated"] + (["deleted"] if trashed_first else [])
    assert await _event_types(engine, "customer:C-1") == [f"customer.{kind}" for kind in kinds]
    for value in PERSONAL:
        # The search does find them before, the outbox included.
        assert "webhook_events.data" in await _where_found(engine, value), value

    assert admin.delete(CUSTOMER, params={"erase": "true"}).status_code == 204

    assert await _event_types(engine, "customer:C-1") == [f"customer.{kind}" for kind in [*kinds, "erased"]]
    for value in PERSONAL:
        assert await _where_found(engine, value) == [], value
    assert stored_files(photo_dir) == []
    [entry] = clerk.get(f"{CUSTOMER}/history").json()["items"]
    assert (entry["kind"], entry["actor"]["name"], entry["changes"]) == ("erased", "Alice Admin", [])
    assert_problem(clerk.get(CUSTOMER), 404)
    assert clerk.get("/api/v1/customers/C-2").status_code == 200
    # The id is free again.
    _create(clerk)
