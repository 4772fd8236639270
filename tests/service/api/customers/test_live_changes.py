"""Live changes over real HTTP on PostgreSQL: GET /api/v1/customers/changes as Server-Sent Events (contract 1.2)."""

from __future__ import annotations

import time
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.service.api.access.test_api_keys import as_key, make_key
from tests.service.api.customers.test_photos import image_bytes
from tests.service.api.event_streams import CHANGES, Event, open_stream
from tests.service.api.helpers import SignedIn, assert_problem

CUSTOMERS = "/api/v1/customers"


def _create(user: SignedIn, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"id": customer_id, "name": "Ada", "surname": "Lovelace", **fields}
    response = user.post(CUSTOMERS, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _position(event: Event) -> tuple[int, int]:
    assert event.id is not None
    commit, change = event.id.split(".")
    return int(commit), int(change)


def test_every_kind_of_change_arrives_in_commit_order_with_the_webhook_body(
    clerk: SignedIn, admin: SignedIn, base_url: str, client: httpx.Client
) -> None:
    with open_stream(base_url, clerk.access_token) as stream:
        assert stream.status == 200
        assert stream.response_headers["content-type"].startswith("text/event-stream")
        assert stream.response_headers["cache-control"] == "no-store"
        _create(clerk, "C-1", email="ada@example.com")
        assert clerk.patch(f"{CUSTOMERS}/C-1", json={"surname": "King"}, headers={"If-Match": "*"}).status_code == 200
        photo = clerk.put(f"{CUSTOMERS}/C-1/photo", content=image_bytes(), headers={"Content-Type": "image/jpeg"})
        assert photo.status_code == 200, photo.text
        early = stream.take(3)
        # Signed for the reader, as a read shows them: the URLs load without a token.
        photographed = early[2].body["data"]
        assert client.get(photographed["photo_url"]).status_code == 200
        assert client.get(photographed["photo_thumbnail_url"]).status_code == 200
        assert clerk.delete(f"{CUSTOMERS}/C-1").status_code == 204
        assert clerk.post(f"{CUSTOMERS}/C-1/restore").status_code == 200
        # Read before the erasure: it takes the customer's earlier events with it, also those not yet sent.
        trash = stream.take(2)
        assert admin.delete(f"{CUSTOMERS}/C-1", params={"erase": "true"}).status_code == 204

        events = early + trash + stream.take(1)

    assert [event.type for event in events] == [
        "customer.created",
        "customer.updated",
        "customer.photo_changed",
        "customer.deleted",
        "customer.restored",
        "customer.erased",
    ]
    positions = [_position(event) for event in events]
    assert positions == sorted(positions) and len(set(positions)) == 6
    assert stream.retry is not None
    bodies = [event.body for event in events]
    assert [body["type"] for body in bodies] == [event.type for event in events]
    assert all(body["timestamp"].endswith("Z") for body in bodies)
    created, updated, photographed, deleted, restored, erased = (body["data"] for body in bodies)
    assert created["email"] == "ada@example.com"
    assert created["created_by"] == {"id": clerk.user_id, "name": "Bob Clerk"}
    assert updated["changes"] == [{"field": "surname", "old": "Lovelace", "new": "King"}]
    assert photographed["has_photo"] is True
    assert photographed["changes"] == [{"field": "photo", "old": None, "new": "present"}]
    assert "photo_url" not in created
    assert deleted == {"id": "C-1"}
    assert restored["has_photo"] is True and restored["version"] == 4
    assert erased == {"id": "C-1"}


def test_a_reconnect_gets_exactly_what_it_missed_then_live_changes(clerk: SignedIn, base_url: str) -> None:
    with open_stream(base_url, clerk.access_token) as first:
        _create(clerk, "C-1")
        _create(clerk, "C-2")
        seen = first.take(2)
    assert [event.body["data"]["id"] for event in seen] == ["C-1", "C-2"]
    # Missed while away:
    _create(clerk, "C-3")
    assert clerk.patch(f"{CUSTOMERS}/C-1", json={"notes": "Back"}, headers={"If-Match": "*"}).status_code == 200

    missed = [("customer.created", "C-3"), ("customer.updated", "C-1")]
    for number, resume in enumerate(({"last_event_id": seen[-1].id}, {"after": seen[-1].id})):
        with open_stream(base_url, clerk.access_token, **resume) as again:  # type: ignore[arg-type]
            replayed = again.take(len(missed))
            assert [(event.type, event.body["data"]["id"]) for event in replayed] == missed
            _create(clerk, f"C-live-{number}")
            live = again.next()
            assert (live.type, live.body["data"]["id"]) == ("customer.created", f"C-live-{number}")
            assert _position(live) > _position(replayed[-1]) > _position(seen[-1])
        # The next resume from the same position replays this one too.
        missed.append(("customer.created", f"C-live-{number}"))


def test_an_unknown_or_malformed_position_gets_reset_first(clerk: SignedIn, base_url: str) -> None:
    for position in ("999999999.1", "not-a-position"):
        with open_stream(base_url, clerk.access_token, last_event_id=position) as stream:
            reset = stream.next()
            assert reset.type == "reset"
            assert reset.id is not None
            _create(clerk, f"C-{len(position)}")
            assert stream.next().type == "customer.created"


def test_a_replay_never_shows_an_erased_customer(clerk: SignedIn, admin: SignedIn, base_url: str) -> None:
    with open_stream(base_url, clerk.access_token) as stream:
        _create(clerk, "C-0")
        start = stream.next()
    _create(clerk, "C-9", email="gone@example.com")
    assert clerk.patch(f"{CUSTOMERS}/C-9", json={"notes": "Secret"}, headers={"If-Match": "*"}).status_code == 200
    assert admin.delete(f"{CUSTOMERS}/C-9", params={"erase": "true"}).status_code == 204

    with open_stream(base_url, clerk.access_token, last_event_id=start.id) as replay:
        [erased] = replay.take(1)
        _create(clerk, "C-10")
        after = replay.next()

    assert (erased.type, erased.body["data"]) == ("customer.erased", {"id": "C-9"})
    assert after.body["data"]["id"] == "C-10"


def test_the_sixth_stream_of_a_caller_is_refused_and_keys_need_the_read_scope(
    clerk: SignedIn, admin: SignedIn, base_url: str, client: httpx.Client
) -> None:
    streams = [open_stream(base_url, clerk.access_token) for _ in range(5)]
    try:
        assert [stream.status for stream in streams] == [200] * 5
        with open_stream(base_url, clerk.access_token) as sixth:
            assert sixth.status == 429
            assert sixth.problem is not None and sixth.problem["status"] == 429
            assert int(sixth.response_headers["retry-after"]) > 0
        # Another caller is not held back by the clerk's streams.
        with open_stream(base_url, admin.access_token) as other:
            assert other.status == 200
    finally:
        for stream in streams:
            stream.close()
    # Closed streams no longer count.
    with open_stream(base_url, clerk.access_token) as again:
        assert again.status == 200

    writer = as_key(client, make_key(admin, ["customers:write"], name="Writer only"))
    with open_stream(base_url, writer.access_token) as refused:
        assert refused.status == 403
    reader = as_key(client, make_key(admin, ["customers:read"], name="Reader"))
    with open_stream(base_url, reader.access_token) as allowed:
        assert allowed.status == 200
        _create(clerk, "C-1")
        assert allowed.next().body["data"]["id"] == "C-1"


def _streams_gauges(client: httpx.Client) -> tuple[float, float]:
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
    }
    return samples["crm_live_change_streams"], samples["crm_live_change_streams_max"]


def test_operators_see_the_open_streams_beside_the_maximum(
    clerk: SignedIn, base_url: str, client: httpx.Client
) -> None:
    with open_stream(base_url, clerk.access_token) as first, open_stream(base_url, clerk.access_token) as second:
        assert first.status == second.status == 200
        open_now, maximum = _streams_gauges(client)
        assert open_now >= 2
        # CRM_LIVE_CHANGES_MAX_STREAMS's default, for each app this test process serves.
        assert maximum >= 1000 and maximum % 1000 == 0
    deadline = time.monotonic() + 5
    while _streams_gauges(client)[0] > open_now - 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _streams_gauges(client)[0] <= open_now - 2


def test_bad_requests_are_refused_with_problems(clerk: SignedIn, client: httpx.Client) -> None:
    assert_problem(client.get(CHANGES), 401)
    assert_problem(clerk.get(CHANGES, headers={"Accept": "application/json"}), 406)
    assert_problem(clerk.get(CHANGES, params={"after": "1" * 100}), 400)


def test_the_document_describes_the_stream_and_its_events(client: httpx.Client) -> None:
    operation = client.get("/docs/openapi.json").json()["paths"][CHANGES]["get"]
    assert operation["operationId"] == "followCustomerChanges"
    assert {"ApiKey": []} in operation["security"]
    assert list(operation["responses"]["200"]["content"]) == ["text/event-stream"]
    assert {"401", "403", "406", "429", "503"} <= set(operation["responses"])
    parameters = {(parameter["in"], parameter["name"]) for parameter in operation["parameters"]}
    assert {("header", "Last-Event-ID"), ("query", "after")} <= parameters
    for event_type in ("created", "updated", "photo_changed", "deleted", "restored", "erased"):
        assert f"`customer.{event_type}`" in operation["description"]
    assert "`event: reset`" in operation["description"]


def test_an_import_arrives_as_one_event_per_customer_in_its_order(clerk: SignedIn, base_url: str) -> None:
    csv = "id,name,surname\nI-1,Ada,Lovelace\nI-2,Grace,Hopper\nI-3,Alan,Turing\n"
    with open_stream(base_url, clerk.access_token) as stream:
        imported = clerk.post(f"{CUSTOMERS}/import", content=csv, headers={"Content-Type": "text/csv"})
        assert imported.status_code == 200, imported.text
        events = stream.take(3)

    assert [(event.type, event.body["data"]["id"], event.body["data"]["name"]) for event in events] == [
        ("customer.created", "I-1", "Ada"),
        ("customer.created", "I-2", "Grace"),
        ("customer.created", "I-3", "Alan"),
    ]
    # One transaction: one commit position, the events in the order they were recorded.
    assert len({_position(event)[0] for event in events}) == 1
