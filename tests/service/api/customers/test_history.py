"""A customer's change history through the API: who changed what and when, newest first, in pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tests.service.api.customers.test_photos import image_bytes
from tests.service.api.helpers import SignedIn, assert_problem, walk_pages

HISTORY = "/api/v1/customers/C-1/history"


def _create(user: SignedIn, **fields: Any) -> None:
    body = {"id": "C-1", "name": "Ada", "surname": "Lovelace", "email": "ada@example.com", **fields}
    assert user.post("/api/v1/customers", json=body).status_code == 201


def _patch(user: SignedIn, **fields: Any) -> None:
    response = user.patch(
        "/api/v1/customers/C-1", json=fields, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert response.status_code == 200, response.text


def _at(item: dict[str, Any]) -> datetime:
    assert item["at"].endswith("Z")
    return datetime.fromisoformat(item["at"])


def test_create_patches_and_a_photo_show_newest_first_with_actor_time_and_fields(
    clerk: SignedIn, admin: SignedIn
) -> None:
    _create(clerk)
    _patch(admin, surname="King", phone="+44 20 7946 0000")
    _patch(clerk, email=None, notes="Prefers post.")
    upload = clerk.put("/api/v1/customers/C-1/photo", content=image_bytes(), headers={"Content-Type": "image/jpeg"})
    assert upload.status_code == 200

    response = clerk.get(HISTORY)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "link" not in response.headers
    body = response.json()
    assert body["next_cursor"] is None
    items = body["items"]
    bob = {"id": clerk.user_id, "name": "Bob Clerk"}
    alice = {"id": admin.user_id, "name": "Alice Admin"}
    assert [(item["kind"], item["actor"], item["changes"]) for item in items] == [
        ("photo_changed", bob, [{"field": "photo", "old": None, "new": "present"}]),
        (
            "updated",
            bob,
            [
                {"field": "email", "old": "ada@example.com", "new": None},
                {"field": "notes", "old": None, "new": "Prefers post."},
            ],
        ),
        (
            "updated",
            alice,
            [
                {"field": "surname", "old": "Lovelace", "new": "King"},
                {"field": "phone", "old": None, "new": "+44 20 7946 0000"},
            ],
        ),
        (
            "created",
            bob,
            [
                {"field": "name", "old": None, "new": "Ada"},
                {"field": "surname", "old": None, "new": "Lovelace"},
                {"field": "email", "old": None, "new": "ada@example.com"},
            ],
        ),
    ]
    times = [_at(item) for item in items]
    assert times == sorted(times, reverse=True)
    customer = clerk.get("/api/v1/customers/C-1").json()
    assert items[0]["at"] == customer["updated_at"]
    assert items[-1]["at"] == customer["created_at"]
    # The photo's storage keys appear nowhere in the history.
    assert "photos/" not in response.text


def test_a_patch_that_changes_nothing_is_not_in_the_history(clerk: SignedIn) -> None:
    _create(clerk)
    _patch(clerk, name="Ada", surname="  Lovelace ")
    assert [item["kind"] for item in clerk.get(HISTORY).json()["items"]] == ["created"]


def test_pages_follow_the_cursor_and_the_link_header(clerk: SignedIn) -> None:
    _create(clerk)
    for number in range(6):
        _patch(clerk, notes=f"note {number}")

    pages = walk_pages(clerk, f"{HISTORY}?limit=3")
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    notes = [item["changes"][-1]["new"] for page in pages for item in page["items"]]
    assert notes == [f"note {number}" for number in reversed(range(6))] + ["ada@example.com"]


def test_paging_parameters_are_checked(clerk: SignedIn) -> None:
    _create(clerk, id="C-2")
    _create(clerk)
    _patch(clerk, notes="x")
    other_cursor = clerk.get("/api/v1/customers/C-2/history?limit=1").json()["next_cursor"]
    assert other_cursor is None  # C-2 has one change only
    cursor = clerk.get(f"{HISTORY}?limit=1").json()["next_cursor"]
    assert cursor is not None
    assert_problem(clerk.get(f"/api/v1/customers/C-2/history?cursor={cursor}"), 400)
    for query in ("limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor", "cursor=WyJDLTEiLCJ4IiwiMSJd", "x=1"):
        assert_problem(clerk.get(f"{HISTORY}?{query}"), 400)


def test_a_deleted_customers_history_stays_readable(clerk: SignedIn, admin: SignedIn) -> None:
    _create(clerk)
    upload = clerk.put("/api/v1/customers/C-1/photo", content=image_bytes(), headers={"Content-Type": "image/jpeg"})
    assert upload.status_code == 200
    assert admin.delete("/api/v1/customers/C-1").status_code == 204
    assert_problem(clerk.get("/api/v1/customers/C-1"), 404)

    items = clerk.get(HISTORY).json()["items"]
    assert [item["kind"] for item in items] == ["deleted", "photo_changed", "created"]
    assert items[0]["actor"] == {"id": admin.user_id, "name": "Alice Admin"}
    assert items[0]["changes"] == []

    # Restored from the trash, the same history continues.
    assert clerk.post("/api/v1/customers/C-1/restore").status_code == 200
    assert [item["kind"] for item in clerk.get(HISTORY).json()["items"]] == [
        "restored",
        "deleted",
        "photo_changed",
        "created",
    ]


def test_an_id_without_history_is_404(clerk: SignedIn) -> None:
    assert_problem(clerk.get("/api/v1/customers/C-404/history"), 404)
    assert_problem(clerk.get("/api/v1/customers/not%20an%20id!/history"), 404)


def test_the_history_needs_a_token(client: httpx.Client, clerk: SignedIn) -> None:
    _create(clerk)
    response = client.get(HISTORY)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(client.get(HISTORY, headers={"Authorization": "Bearer not-a-token"}), 401)


def test_the_openapi_document_describes_the_history(client: httpx.Client) -> None:
    document = client.get("/docs/openapi.json").json()
    operation = document["paths"]["/api/v1/customers/{customer_id}/history"]["get"]
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"customer_id", "limit", "cursor"}
    assert {"200", "400", "401", "404", "503"} <= set(operation["responses"])
    assert operation["security"]
    schema = document["components"]["schemas"]
    assert any("CustomerHistoryPage" in name for name in schema)
