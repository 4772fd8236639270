"""Deliveries end to end: signed per Standard Webhooks (checked with the `standardwebhooks` package, as a receiver
would), never lost when the worker dies, never sent for a change that did not commit, in order per customer."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook as StandardWebhook

from crm.app import create_app
from crm.settings import Settings
from tests.service.api.helpers import SignedIn
from tests.service.api.server import serve_in_thread
from tests.service.webhooks.conftest import Arrival, Receiver, Worker


def _register(admin: SignedIn, receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
    response = admin.post("/api/v1/webhooks", json={"url": receiver.url, "events": events or ["*"]})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _verified(secret: str, arrival: Arrival) -> dict[str, Any]:
    """What the receiver's library makes of it: raises unless a signature matches and the timestamp is fresh."""
    payload: dict[str, Any] = StandardWebhook(secret).verify(arrival.body, arrival.headers)
    return payload


def _customer(admin: SignedIn, customer_id: str) -> None:
    response = admin.post("/api/v1/customers", json={"id": customer_id, "name": "Ada", "surname": "Lovelace"})
    assert response.status_code == 201, response.text


async def test_the_worker_in_the_server_delivers_signed_events(
    webhook_settings: Settings, admin: SignedIn, receiver: Receiver
) -> None:
    with serve_in_thread(
        lambda url: create_app(webhook_settings.replace(public_url=url, webhooks_in_serve=True))
    ) as url:
        webhook = _register(admin, receiver)
        with httpx.Client(base_url=url, timeout=30) as client:
            own = SignedIn(client, admin.access_token, admin.refresh_token, admin.user_id)
            _customer(own, "C-1")
            assert own.patch("/api/v1/customers/C-1", json={"surname": "King", "email": "ada@example.com"}).is_success
            assert own.delete("/api/v1/customers/C-1").status_code == 204
            receiver.wait_for(lambda r: len(r.unique()) == 3)

    payloads = [_verified(webhook["secret"], arrival) for arrival in receiver.received()]
    assert [payload["type"] for payload in payloads] == ["customer.created", "customer.updated", "customer.deleted"]
    created, updated, deleted = (payload["data"] for payload in payloads)
    assert created["id"] == "C-1" and created["version"] == 1
    assert created["created_by"] == {"id": admin.user_id, "name": "Alice Admin"}
    assert updated["changes"] == [
        {"field": "surname", "old": "Lovelace", "new": "King"},
        {"field": "email", "old": None, "new": "ada@example.com"},
    ]
    assert deleted == {"id": "C-1"}
    first = receiver.received()[0]
    assert first.headers["content-type"] == "application/json"
    assert first.headers["webhook-signature"].startswith("v1,")
    datetime.fromisoformat(payloads[0]["timestamp"])
    assert abs(int(first.headers["webhook-timestamp"]) - time.time()) < 60
    with pytest.raises(Exception, match=r"[Ss]ignature"):
        StandardWebhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=").verify(first.body, first.headers)


async def test_after_a_rotation_both_secrets_verify(admin: SignedIn, receiver: Receiver, workers: Any) -> None:
    webhook = _register(admin, receiver)
    rotated = admin.post(f"/api/v1/webhooks/{webhook['id']}/rotate-secret").json()
    workers()
    assert admin.post(f"/api/v1/webhooks/{webhook['id']}/test").status_code == 202
    receiver.wait_for(lambda r: len(r.unique()) == 1)
    (arrival,) = receiver.received()
    assert len(arrival.headers["webhook-signature"].split(" ")) == 2
    assert _verified(rotated["secret"], arrival)["type"] == "webhook.test"
    assert _verified(webhook["secret"], arrival)["type"] == "webhook.test"


async def test_an_event_survives_a_worker_killed_between_commit_and_delivery(
    admin: SignedIn, receiver: Receiver, workers: Callable[[], Worker]
) -> None:
    webhook = _register(admin, receiver)
    first_try = time.monotonic()
    # The first try is held long enough to kill the worker while it waits for the answer.
    receiver.hold = lambda arrival: 5.0 if len(receiver.arrivals) == 1 else 0.0

    _customer(admin, "C-1")  # committed while no worker runs
    time.sleep(0.3)
    assert receiver.received() == []

    first = workers()
    receiver.wait_for(lambda r: len(r.received()) == 1, within=30)
    first.kill()
    first_try = time.monotonic()
    second = workers()
    receiver.wait_for(lambda r: len(r.received()) >= 2, within=30)
    assert time.monotonic() - first_try < 30
    # A duplicate conflict rolls back: no event for it.
    assert admin.post("/api/v1/customers", json={"id": "C-1", "name": "Eve", "surname": "Other"}).status_code == 409
    _customer(admin, "C-2")
    receiver.wait_for(lambda r: len(r.unique()) == 2)
    time.sleep(0.5)
    assert second.stop() == 0, second.output()

    arrivals = receiver.received()
    by_id: dict[str, list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        by_id[arrival.headers["webhook-id"]].append(arrival)
    assert len(by_id) == 2  # exactly once each, deduplicated by webhook-id
    c1_tries = next(tries for tries in by_id.values() if _verified(webhook["secret"], tries[0])["data"]["id"] == "C-1")
    assert len(c1_tries) == 2  # at least once in fact: the killed try, and the one after the restart
    assert c1_tries[0].body == c1_tries[1].body
    names = [_verified(webhook["secret"], tries[0])["data"]["name"] for tries in by_id.values()]
    assert names == ["Ada", "Ada"]  # never Eve's rolled-back customer
    deliveries = admin.get(f"/api/v1/webhooks/{webhook['id']}/deliveries").json()["items"]
    assert [(d["status"], d["last_status_code"]) for d in deliveries] == [("delivered", 204), ("delivered", 204)]


async def test_a_receiver_that_answers_410_disables_the_webhook(
    admin: SignedIn, receiver: Receiver, workers: Callable[[], Worker]
) -> None:
    webhook = _register(admin, receiver)
    receiver.status = 410
    workers()
    _customer(admin, "C-1")
    receiver.wait_for(lambda r: len(r.received()) == 1)
    deadline = time.monotonic() + 10
    while admin.get(f"/api/v1/webhooks/{webhook['id']}").json()["active"]:
        assert time.monotonic() < deadline, "the webhook stayed active"
        time.sleep(0.1)
    (delivery,) = admin.get(f"/api/v1/webhooks/{webhook['id']}/deliveries").json()["items"]
    assert (delivery["status"], delivery["last_status_code"], delivery["attempts"]) == ("failed", 410, 1)


@pytest.fixture
def report() -> Iterator[dict[str, Any]]:
    figures: dict[str, Any] = {}
    yield figures
    print("\nwebhook load:", json.dumps(figures))


async def test_a_thousand_changes_by_eight_clients_all_arrive_verified_and_in_order(
    admin: SignedIn, receiver: Receiver, workers: Callable[[], Worker], report: dict[str, Any]
) -> None:
    webhook = _register(admin, receiver)
    workers()
    clients, customers_each, patches_each = 8, 25, 4  # 8 x 25 x (1 create + 4 changes) = 1,000 changes
    base_url = str(admin.client.base_url)
    started = time.time()

    async def client(number: int) -> None:
        headers = {"Authorization": f"Bearer {admin.access_token}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
            for index in range(customers_each):
                customer_id = f"C-{number}-{index}"
                created = await http.post("/api/v1/customers", json={"id": customer_id, "name": "N", "surname": "S0"})
                assert created.status_code == 201, created.text
                for change in range(1, patches_each + 1):
                    patched = await http.patch(f"/api/v1/customers/{customer_id}", json={"surname": f"S{change}"})
                    assert patched.status_code == 200, patched.text

    await asyncio.gather(*(client(number) for number in range(clients)))
    committed = time.time()
    total = clients * customers_each * (1 + patches_each)
    await asyncio.to_thread(receiver.wait_for, lambda r: len(r.unique()) >= total, 180)
    finished = time.time()

    unique = receiver.unique()
    assert len(unique) == total
    versions: dict[str, list[int]] = defaultdict(list)
    lags = []
    for arrival in sorted(unique.values(), key=lambda arrival: arrival.at):
        payload = _verified(webhook["secret"], arrival)
        versions[payload["data"]["id"]].append(payload["data"]["version"])
        lags.append(arrival.at - datetime.fromisoformat(payload["timestamp"]).timestamp())
    assert len(versions) == clients * customers_each
    assert all(found == list(range(1, patches_each + 2)) for found in versions.values()), versions
    quantiles = statistics.quantiles(lags, n=100)
    report.update(
        events=total,
        changes_per_second=round(total / (committed - started), 1),
        deliveries_per_second=round(total / (finished - started), 1),
        drained_after_last_commit_s=round(finished - committed, 2),
        lag_p50_ms=round(quantiles[49] * 1000, 1),
        lag_p99_ms=round(quantiles[98] * 1000, 1),
        duplicates=len(receiver.received()) - total,
    )
    assert quantiles[98] < 60
