"""Customers through the API: create, read, list, search, sort, change and delete."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.service.api.conftest import Accounts
from tests.service.api.helpers import SignedIn, assert_problem, walk_pages

ADA = {
    "id": "C-0001",
    "name": "Ada",
    "surname": "Lovelace",
    "email": "ada@example.com",
    "phone": "+44 20 7946 0000",
    "notes": "Prefers e-mail.",
}


def create(user: SignedIn, **fields: Any) -> httpx.Response:
    return user.post("/api/v1/customers", json={**ADA, **fields})


def test_create_then_read_a_customer(clerk: SignedIn) -> None:
    response = create(clerk)
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == "/api/v1/customers/C-0001"
    assert response.headers["etag"].startswith('"')
    assert {key: body[key] for key in ADA} == ADA
    assert body["photo_url"] is None and body["photo_thumbnail_url"] is None
    assert body["created_by"] == {"id": clerk.user_id, "name": "Bob Clerk"}
    assert body["updated_by"] == body["created_by"]
    assert body["version"] == 1
    assert body["created_at"].endswith("Z")
    read = clerk.get("/api/v1/customers/C-0001")
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == response.headers["etag"]


def test_optional_fields_are_null_when_absent_and_text_is_trimmed(clerk: SignedIn) -> None:
    body = clerk.post("/api/v1/customers", json={"id": "min", "name": "  Grace ", "surname": "Hopper"}).json()
    assert body["name"] == "Grace"
    assert body["email"] is None and body["phone"] is None and body["notes"] is None


def test_duplicate_ids_conflict(clerk: SignedIn, admin: SignedIn) -> None:
    assert create(clerk).status_code == 201
    assert_problem(create(admin, name="Other"), 409)
    assert clerk.get("/api/v1/customers/C-0001").json()["name"] == "Ada"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": "-leading-dash"}, "id"),
        ({"id": "has space"}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"id": "C/1"}, "id"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "N" * 101}, "name"),
        ({"surname": "Love\u0007lace"}, "surname"),
        ({"name": "line\nbreak"}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "1" * 33}, "phone"),
        ({"notes": "n" * 10_001}, "notes"),
        ({"name": 42}, "name"),
        ({"name": None}, "name"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_invalid_customers_are_refused_and_nothing_is_stored(
    clerk: SignedIn, fields: dict[str, Any], field: str
) -> None:
    assert_problem(create(clerk, **fields), 422, field)
    assert clerk.get("/api/v1/customers").json()["items"] == []


def test_every_problem_is_reported_at_once(clerk: SignedIn) -> None:
    body = assert_problem(
        clerk.post("/api/v1/customers", json={"id": "!", "name": "", "surname": "", "email": "x"}), 422
    )
    assert {error["field"] for error in body["errors"]} == {"id", "name", "surname", "email"}


def test_missing_required_fields(clerk: SignedIn) -> None:
    assert_problem(clerk.post("/api/v1/customers", json={"name": "A", "surname": "B"}), 422, "id")


def test_merge_patch_changes_clears_and_keeps(clerk: SignedIn, admin: SignedIn) -> None:
    etag = create(clerk).headers["etag"]
    response = admin.patch(
        "/api/v1/customers/C-0001",
        json={"name": "Augusta Ada", "phone": None},
        headers={"Content-Type": "application/merge-patch+json", "If-Match": etag},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Augusta Ada"
    assert body["phone"] is None
    assert body["surname"] == "Lovelace" and body["notes"] == "Prefers e-mail."
    assert body["version"] == 2
    assert body["updated_by"] == {"id": admin.user_id, "name": "Alice Admin"}
    assert body["created_by"]["id"] == clerk.user_id
    assert response.headers["etag"] != etag


def test_patch_cannot_clear_required_fields_or_change_the_id(clerk: SignedIn) -> None:
    create(clerk)
    assert_problem(clerk.patch("/api/v1/customers/C-0001", json={"name": None}), 422, "name")
    assert_problem(clerk.patch("/api/v1/customers/C-0001", json={"surname": ""}), 422, "surname")
    assert_problem(clerk.patch("/api/v1/customers/C-0001", json={"id": "C-0002"}), 422, "id")
    assert_problem(clerk.patch("/api/v1/customers/C-0001", json={"unknown": 1}), 422, "unknown")
    assert clerk.patch("/api/v1/customers/C-0001", json={"id": "C-0001"}).status_code == 200
    assert clerk.get("/api/v1/customers/C-0001").json()["version"] == 1


def test_an_empty_patch_changes_nothing(clerk: SignedIn) -> None:
    create(clerk)
    assert clerk.patch("/api/v1/customers/C-0001", json={}).json()["version"] == 1


def test_conditional_requests(clerk: SignedIn) -> None:
    etag = create(clerk).headers["etag"]
    not_modified = clerk.get("/api/v1/customers/C-0001", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert clerk.get("/api/v1/customers/C-0001", headers={"If-None-Match": '"stale"'}).status_code == 200

    assert clerk.patch("/api/v1/customers/C-0001", json={"notes": "v2"}, headers={"If-Match": etag}).status_code == 200
    stale = clerk.patch("/api/v1/customers/C-0001", json={"notes": "lost"}, headers={"If-Match": etag})
    assert_problem(stale, 412)
    assert_problem(clerk.delete("/api/v1/customers/C-0001", headers={"If-Match": etag}), 412)
    assert clerk.get("/api/v1/customers/C-0001").json()["notes"] == "v2"
    assert clerk.delete("/api/v1/customers/C-0001", headers={"If-Match": "*"}).status_code == 204


def test_delete_a_customer(clerk: SignedIn) -> None:
    create(clerk)
    assert clerk.delete("/api/v1/customers/C-0001").status_code == 204
    assert_problem(clerk.get("/api/v1/customers/C-0001"), 404)
    assert_problem(clerk.delete("/api/v1/customers/C-0001"), 404)
    assert_problem(clerk.patch("/api/v1/customers/C-0001", json={"name": "X"}), 404)
    # In the trash the id stays taken, and the answer says where it is.
    taken = create(clerk)
    assert_problem(taken, 409)
    assert "trash" in taken.json()["detail"]


def test_unknown_and_malformed_ids_are_404(clerk: SignedIn) -> None:
    for customer_id in ("nope", "%27%20OR%201%3D1--", "a" * 200):
        assert_problem(clerk.get(f"/api/v1/customers/{customer_id}"), 404)


async def test_customers_keep_pointing_at_deleted_users(accounts: Accounts, admin: SignedIn) -> None:
    clerk = await accounts.signed_in(name="Dana Departed")
    assert create(clerk).status_code == 201
    assert admin.delete(f"/api/v1/users/{clerk.user_id}").status_code == 204
    body = admin.get("/api/v1/customers/C-0001").json()
    assert body["created_by"] == {"id": clerk.user_id, "name": "Dana Departed"}


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_pages_follow_the_cursor_and_the_link_header(clerk: SignedIn) -> None:
    for number in range(7):
        create(clerk, id=f"P-{number}", name=f"Name {number}", email=None)
    pages = walk_pages(clerk, "/api/v1/customers?limit=3&sort=id")
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    assert [item["id"] for page in pages for item in page["items"]] == [f"P-{number}" for number in range(7)]


def test_pages_are_stable_while_customers_come_and_go(clerk: SignedIn) -> None:
    for number in range(6):
        create(clerk, id=f"S-{number}", email=None)
    first = clerk.get("/api/v1/customers?limit=3&sort=id").json()
    assert [item["id"] for item in first["items"]] == ["S-0", "S-1", "S-2"]
    create(clerk, id="S-00", email=None)  # sorts before the cursor: must not shift the next page
    clerk.delete("/api/v1/customers/S-3")
    second = clerk.get(f"/api/v1/customers?limit=3&sort=id&cursor={first['next_cursor']}")
    assert _ids(second) == ["S-4", "S-5"]


def test_sorting(clerk: SignedIn) -> None:
    for customer_id, name, surname in [("a1", "émile", "Zola"), ("a2", "Zoë", "Adams"), ("a3", "adam", "Moss")]:
        create(clerk, id=customer_id, name=name, surname=surname, email=None)
    assert _ids(clerk.get("/api/v1/customers?sort=name")) == ["a3", "a1", "a2"]
    assert _ids(clerk.get("/api/v1/customers?sort=-name")) == ["a2", "a1", "a3"]
    assert _ids(clerk.get("/api/v1/customers?sort=surname")) == ["a2", "a3", "a1"]
    assert _ids(clerk.get("/api/v1/customers")) == ["a3", "a2", "a1"]  # newest first by default
    assert _ids(clerk.get("/api/v1/customers?sort=created_at")) == ["a1", "a2", "a3"]
    clerk.patch("/api/v1/customers/a1", json={"notes": "touched"})
    assert _ids(clerk.get("/api/v1/customers?sort=-updated_at"))[0] == "a1"
    assert_problem(clerk.get("/api/v1/customers?sort=password"), 422, "sort")


def test_search_ignores_case_and_accents(clerk: SignedIn) -> None:
    create(clerk, id="B-1", name="Zoë", surname="Ångström", email="zoe@example.com")
    create(clerk, id="B-2", name="Bob", surname="Builder", email="bob@build.example")
    assert _ids(clerk.get("/api/v1/customers", params={"q": "ZOE"})) == ["B-1"]
    assert _ids(clerk.get("/api/v1/customers", params={"q": "angstrom"})) == ["B-1"]
    assert _ids(clerk.get("/api/v1/customers", params={"q": "build.example"})) == ["B-2"]
    assert _ids(clerk.get("/api/v1/customers", params={"q": "b-2"})) == ["B-2"]
    assert _ids(clerk.get("/api/v1/customers", params={"q": "%"})) == []
    assert _ids(clerk.get("/api/v1/customers", params={"q": "_"})) == []


@pytest.mark.parametrize(
    "attack",
    ["' OR '1'='1", "'; DROP TABLE customers; --", "\\", "%' --", "1) UNION SELECT password_hash FROM users--"],
)
def test_sql_injection_finds_nothing_and_breaks_nothing(clerk: SignedIn, attack: str) -> None:
    create(clerk)
    assert _ids(clerk.get("/api/v1/customers", params={"q": attack})) == []
    assert clerk.get("/api/v1/customers", params={"sort": attack}).status_code in (400, 422)
    assert clerk.get("/api/v1/customers", params={"cursor": attack}).status_code == 400
    assert clerk.get("/api/v1/customers/C-0001").status_code == 200


def test_list_parameters_are_checked(clerk: SignedIn) -> None:
    for query in (
        "limit=0",
        "limit=101",
        "limit=1000000",
        "limit=abc",
        "cursor=not-a-cursor",
        "colour=blue",
        "cursor=WyItaWQiLCJ4Il0",
    ):
        assert_problem(clerk.get(f"/api/v1/customers?{query}"), 400)


def test_a_cursor_only_works_with_its_own_sort_order(clerk: SignedIn) -> None:
    for number in range(3):
        create(clerk, id=f"K-{number}", email=None)
    cursor = clerk.get("/api/v1/customers?limit=1&sort=id").json()["next_cursor"]
    assert_problem(clerk.get(f"/api/v1/customers?limit=1&sort=name&cursor={cursor}"), 400)


def test_concurrent_changes_without_if_match_all_land_each_with_its_history_entry(clerk: SignedIn) -> None:
    # No row lock is held between reading and writing: a change that lost the race is made again on
    # what the other wrote, so none is lost and each leaves one history entry.
    assert create(clerk).status_code == 201
    writers, changes_each = 6, 4

    def write(writer: int) -> list[int]:
        return [
            clerk.patch("/api/v1/customers/C-0001", json={"notes": f"from {writer}, change {change}"}).status_code
            for change in range(changes_each)
        ]

    with ThreadPoolExecutor(writers) as pool:
        statuses = [status for result in pool.map(write, range(writers)) for status in result]
    assert statuses == [200] * (writers * changes_each)
    assert clerk.get("/api/v1/customers/C-0001").json()["version"] == 1 + writers * changes_each
    history = clerk.get("/api/v1/customers/C-0001/history", params={"limit": 100}).json()["items"]
    assert len(history) == 1 + writers * changes_each
