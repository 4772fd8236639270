"""Idempotency-Key over HTTP: a replay repeats status, body, Location and ETag; another body is 422; 50 identical
POSTs at once create one customer and all get the same answer."""

from __future__ import annotations

import asyncio

import httpx

from tests.service.api.helpers import SignedIn, assert_problem

CUSTOMER = {"id": "C-1", "name": "Ada", "surname": "Lovelace"}


async def test_a_repeated_create_replays_the_first_answer(clerk: SignedIn) -> None:
    headers = {"Idempotency-Key": "order-4711"}
    first = clerk.post("/api/v1/customers", json=CUSTOMER, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers

    again = clerk.post("/api/v1/customers", json=CUSTOMER, headers=headers)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert (again.headers["location"], again.headers["etag"]) == (first.headers["location"], first.headers["etag"])

    # Without the key, the same request is a new one: the id is taken.
    assert_problem(clerk.post("/api/v1/customers", json=CUSTOMER), 409)
    # The same key with another body.
    assert_problem(clerk.post("/api/v1/customers", json={**CUSTOMER, "name": "Eve"}, headers=headers), 422)


async def test_keys_belong_to_their_caller_and_refusals_are_not_kept(clerk: SignedIn, admin: SignedIn) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    assert_problem(clerk.post("/api/v1/customers", json={"id": "C-1"}, headers=headers), 422)
    assert clerk.post("/api/v1/customers", json=CUSTOMER, headers=headers).status_code == 201
    # Another caller with the same key is another request.
    other = admin.post("/api/v1/customers", json={**CUSTOMER, "id": "C-2"}, headers=headers)
    assert other.status_code == 201, other.text
    assert "idempotent-replayed" not in other.headers


async def test_a_key_that_is_not_printable_ascii_is_400(clerk: SignedIn) -> None:
    assert_problem(clerk.post("/api/v1/customers", json=CUSTOMER, headers={"Idempotency-Key": "x" * 256}), 400)
    assert clerk.get("/api/v1/customers/C-1").status_code == 404


async def test_user_and_webhook_creation_replay_too(admin: SignedIn) -> None:
    user = {"email": "grace@example.com", "name": "Grace Hopper", "password": "correct horse battery staple 42"}
    first = admin.post("/api/v1/users", json=user, headers={"Idempotency-Key": "u-1"})
    again = admin.post("/api/v1/users", json=user, headers={"Idempotency-Key": "u-1"})
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"

    webhook = {"url": "https://hooks.example.com/crm", "events": ["*"]}
    first = admin.post("/api/v1/webhooks", json=webhook, headers={"Idempotency-Key": "w-1"})
    again = admin.post("/api/v1/webhooks", json=webhook, headers={"Idempotency-Key": "w-1"})
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(admin.get("/api/v1/webhooks").json()["items"]) == 1


async def test_fifty_identical_posts_at_once_create_one_customer_with_one_answer(clerk: SignedIn) -> None:
    headers = {"Authorization": f"Bearer {clerk.access_token}", "Idempotency-Key": "burst-1"}
    async with httpx.AsyncClient(base_url=str(clerk.client.base_url), headers=headers, timeout=60) as client:
        answers = await asyncio.gather(*(client.post("/api/v1/customers", json=CUSTOMER) for _ in range(50)))

    assert {answer.status_code for answer in answers} == {201}, {answer.text for answer in answers}
    assert len({answer.content for answer in answers}) == 1
    assert len({(answer.headers["location"], answer.headers["etag"]) for answer in answers}) == 1
    assert sum(answer.headers.get("idempotent-replayed") == "true" for answer in answers) == 49
    listed = clerk.get("/api/v1/customers").json()["items"]
    assert [customer["id"] for customer in listed] == ["C-1"]


IMPORT = "/api/v1/customers/import"
CSV = "id,name,surname\r\nC-1,Ada,Lovelace\r\nC-2,Grace,Hopper\r\n"


def _import(user: SignedIn, content: str | bytes, key: str, **params: str) -> httpx.Response:
    headers = {"Content-Type": "text/csv", "Idempotency-Key": key}
    return user.post(IMPORT, content=content, headers=headers, params=params)


async def test_a_repeated_import_replays_its_report_and_writes_nothing_twice(clerk: SignedIn) -> None:
    first = _import(clerk, CSV, "import-1")
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 2
    assert "idempotent-replayed" not in first.headers

    again = _import(clerk, CSV, "import-1")  # mode=create: without the key the ids would now be taken (422)
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # The same file in a multipart form is the same request: the file is what counts, not the form's boundary.
    form = clerk.post(
        IMPORT, files={"file": ("c.csv", CSV.encode(), "text/csv")}, headers={"Idempotency-Key": "import-1"}
    )
    assert (form.status_code, form.headers.get("idempotent-replayed")) == (200, "true"), form.text
    assert [entry["kind"] for entry in clerk.get("/api/v1/customers/C-1/history").json()["items"]] == ["created"]

    # Another file, or the same file with another mode, under the same key.
    assert_problem(_import(clerk, CSV.replace("Hopper", "King"), "import-1"), 422, "Idempotency-Key")
    assert_problem(_import(clerk, CSV, "import-1", mode="upsert"), 422, "Idempotency-Key")
    assert clerk.get("/api/v1/customers/C-2").json()["surname"] == "Hopper"


async def test_a_refused_import_is_not_kept_and_the_size_limit_holds_with_a_key(
    clerk: SignedIn, admin: SignedIn
) -> None:
    assert clerk.post("/api/v1/customers", json=CUSTOMER).status_code == 201
    file = "id,name,surname\r\nC-1,Ada,Lovelace\r\n"
    refused = _import(clerk, file, "import-2")  # mode=create, and C-1 exists
    assert refused.status_code == 422, refused.text
    assert [(error["row"], error["field"]) for error in refused.json()["errors"]] == [(2, "id")]
    # Once the id is free, the same file with the same key is decided afresh, not replayed.
    assert admin.delete("/api/v1/customers/C-1", params={"erase": "true"}).status_code == 204
    again = _import(clerk, file, "import-2")
    assert (again.status_code, again.json()["created"]) == (200, 1), again.text
    assert "idempotent-replayed" not in again.headers

    too_big = b"id,name,surname,notes\r\n" + b"C-3,A,B," + b"x" * (10 * 1024 * 1024) + b"\r\n"
    assert_problem(_import(clerk, too_big, "import-3"), 413)
    # The oversized request left no record behind: the key is still free.
    small = _import(clerk, "id,name,surname\r\nC-3,Edsger,Dijkstra\r\n", "import-3")
    assert (small.status_code, small.json()["created"]) == (200, 1), small.text
