"""/api/v1/webhooks over HTTP: admins only, the secret shown once, URL rules (no internal address), deliveries."""

from __future__ import annotations

import pytest

from tests.service.api.helpers import SignedIn, assert_problem

URL = "https://hooks.example.com/crm"


def _create(user: SignedIn, **body: object) -> dict[str, object]:
    response = user.post("/api/v1/webhooks", json={"url": URL, "events": ["customer.created"], **body})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/v1/webhooks/{response.json()['id']}"
    created: dict[str, object] = response.json()
    return created


async def test_only_admins_manage_webhooks(clerk: SignedIn) -> None:
    assert_problem(clerk.post("/api/v1/webhooks", json={"url": URL, "events": ["*"]}), 403)
    assert_problem(clerk.get("/api/v1/webhooks"), 403)


async def test_an_admin_creates_reads_changes_rotates_and_deletes_a_webhook(admin: SignedIn) -> None:
    created = _create(admin, description="Web shop")
    secret = created.pop("secret")
    assert isinstance(secret, str) and secret.startswith("whsec_")
    assert created["events"] == ["customer.created"]
    assert created["active"] is True
    assert created["created_by"] == {"id": admin.user_id, "name": "Alice Admin"}
    webhook_url = f"/api/v1/webhooks/{created['id']}"

    shown = admin.get(webhook_url).json()
    assert shown == created
    assert "secret" not in shown
    assert admin.get("/api/v1/webhooks").json()["items"] == [created]

    changed = admin.patch(webhook_url, json={"events": ["*"], "active": False, "description": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["events"], changed.json()["active"], changed.json()["description"]) == (["*"], False, None)

    rotated = admin.post(f"{webhook_url}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"].startswith("whsec_") and rotated.json()["secret"] != secret

    assert admin.delete(webhook_url).status_code == 204
    assert_problem(admin.get(webhook_url), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": URL, "events": ["customer.teleported"]}, "events[0]"),
        ({"url": URL, "events": []}, "events"),
        ({"url": "ftp://hooks.example.com/", "events": ["*"]}, "url"),
        ({"url": "not a url", "events": ["*"]}, "url"),
        # Internal destinations, by address and by a name that resolves to one.
        ({"url": "http://127.0.0.1:8080/hook", "events": ["*"]}, "url"),
        ({"url": "http://localhost/hook", "events": ["*"]}, "url"),
        ({"url": "http://10.1.2.3/hook", "events": ["*"]}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data", "events": ["*"]}, "url"),
        ({"url": "http://[::1]/hook", "events": ["*"]}, "url"),
        ({"url": "http://[::ffff:127.0.0.1]/hook", "events": ["*"]}, "url"),
    ],
)
async def test_bad_webhooks_are_refused(admin: SignedIn, body: dict[str, object], field: str) -> None:
    assert_problem(admin.post("/api/v1/webhooks", json=body), 422, field)


async def test_a_test_event_shows_in_the_deliveries_and_can_be_retried(admin: SignedIn) -> None:
    created = _create(admin)
    webhook_url = f"/api/v1/webhooks/{created['id']}"

    assert admin.post(f"{webhook_url}/test").status_code == 202
    deliveries = admin.get(f"{webhook_url}/deliveries")
    assert deliveries.status_code == 200, deliveries.text
    (delivery,) = deliveries.json()["items"]
    assert delivery["type"] == "webhook.test"
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 0
    assert admin.post(f"{webhook_url}/deliveries/{delivery['id']}/retry").status_code == 202
    other = f"/api/v1/webhooks/{created['id']}/deliveries/{created['id']}/retry"
    assert_problem(admin.post(other), 404)


async def test_customer_changes_appear_as_deliveries(admin: SignedIn, clerk: SignedIn) -> None:
    created = _create(admin, events=["customer.created", "customer.updated"])
    response = clerk.post("/api/v1/customers", json={"id": "C-1", "name": "Ada", "surname": "Lovelace"})
    assert response.status_code == 201, response.text
    assert clerk.patch("/api/v1/customers/C-1", json={"surname": "King"}).status_code == 200

    items = admin.get(f"/api/v1/webhooks/{created['id']}/deliveries?limit=1").json()
    assert [item["type"] for item in items["items"]] == ["customer.updated"]
    assert items["next_cursor"] is not None
    rest = admin.get(f"/api/v1/webhooks/{created['id']}/deliveries?limit=1&cursor={items['next_cursor']}").json()
    assert [item["type"] for item in rest["items"]] == ["customer.created"]


async def test_a_url_whose_host_is_no_valid_name_is_refused(admin: SignedIn) -> None:
    for url in ("http://.a.example:65/hook", "https://" + "a" * 64 + ".example.com/"):
        assert_problem(admin.post("/api/v1/webhooks", json={"url": url, "events": ["*"]}), 422, "url")
