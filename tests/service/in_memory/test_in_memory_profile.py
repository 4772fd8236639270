"""The same HTTP application on the in-memory profile: every driven adapter swapped, no database.

The first admin comes from the bootstrap settings, as in a fresh deployment; everything else goes
through the API.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from crm.app import create_app
from crm.settings import Settings
from tests.service.api.event_streams import open_stream
from tests.service.api.helpers import PASSWORD, SignedIn, assert_problem, password_grant, sign_in
from tests.service.api.server import serve_in_thread

ADMIN_EMAIL = "root@example.com"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    settings = Settings(
        environment="test",
        secret_key="in-memory-profile-" + "m" * 40,
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
        bootstrap_admin_email=ADMIN_EMAIL,
        bootstrap_admin_password=PASSWORD,
        bootstrap_admin_name="Root",
        # On, with the in-memory exchange, but never reached by this module's requests.
        rate_limit_requests=10_000,
    )
    with serve_in_thread(lambda url: create_app(settings.replace(public_url=url), in_memory=True)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(client: httpx.Client) -> SignedIn:
    return sign_in(client, ADMIN_EMAIL)


def test_readiness_has_no_database_check(client: httpx.Client) -> None:
    body = client.get("/health/ready").json()
    assert body["status"] == "ok"
    assert "database" not in body["checks"]
    assert body["checks"]["photo_storage"] == "ok"


def test_users_and_customers_work_end_to_end(admin: SignedIn, client: httpx.Client) -> None:
    created = admin.post("/api/v1/users", json={"email": "mem-clerk@example.com", "name": "Mem", "password": PASSWORD})
    assert created.status_code == 201
    clerk = sign_in(client, "mem-clerk@example.com")
    assert_problem(clerk.get("/api/v1/users"), 403)

    customer = clerk.post("/api/v1/customers", json={"id": "M-1", "name": "Zoë", "surname": "Mem"})
    assert customer.status_code == 201
    assert [item["id"] for item in clerk.get("/api/v1/customers", params={"q": "zoe"}).json()["items"]] == ["M-1"]
    etag = customer.headers["etag"]
    assert clerk.patch("/api/v1/customers/M-1", json={"notes": "x"}, headers={"If-Match": etag}).status_code == 200
    assert_problem(clerk.patch("/api/v1/customers/M-1", json={"notes": "y"}, headers={"If-Match": etag}), 412)

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 128, 0)).save(buffer, "PNG")
    photo = clerk.put("/api/v1/customers/M-1/photo", content=buffer.getvalue(), headers={"Content-Type": "image/png"})
    assert photo.status_code == 200
    assert photo.json()["photo_url"] is not None

    assert admin.delete(f"/api/v1/users/{clerk.user_id}").status_code == 204
    assert_problem(clerk.get("/api/v1/customers"), 401)
    assert password_grant(client, "mem-clerk@example.com").status_code == 400
    assert admin.get("/api/v1/customers/M-1").json()["created_by"]["name"] == "Mem"
    assert admin.delete("/api/v1/customers/M-1").status_code == 204


def test_api_keys_work_in_memory_too(admin: SignedIn, client: httpx.Client) -> None:
    once = {"Idempotency-Key": "mem-key-1"}
    made = admin.post("/api/v1/api-keys", json={"name": "Mem sync", "scopes": ["customers:write"]}, headers=once)
    assert made.status_code == 201, made.text
    again = admin.post("/api/v1/api-keys", json={"name": "Mem sync", "scopes": ["customers:write"]}, headers=once)
    assert (again.status_code, again.json()) == (201, made.json())
    assert again.headers["idempotent-replayed"] == "true"
    script = {"Authorization": f"Bearer {made.json()['key']}"}
    created = client.post("/api/v1/customers", json={"id": "K-1", "name": "Kay", "surname": "Mem"}, headers=script)
    assert created.status_code == 201, created.text
    assert created.json()["created_by"]["name"] == "Mem sync"
    refused = assert_problem(client.get("/api/v1/customers/K-1", headers=script), 403)
    assert refused["type"].endswith("insufficient-scope")
    assert admin.delete(f"/api/v1/api-keys/{made.json()['id']}").status_code == 204
    assert_problem(
        client.post("/api/v1/customers", json={"id": "K-2", "name": "K", "surname": "M"}, headers=script), 401
    )


def test_live_changes_follow_and_resume_on_the_in_memory_profile(admin: SignedIn, base_url: str) -> None:
    with open_stream(base_url, admin.access_token) as stream:
        assert stream.status == 200
        created = admin.post("/api/v1/customers", json={"id": "M-live", "name": "Ada", "surname": "Lovelace"})
        assert created.status_code == 201
        first = stream.next()
    assert (first.type, first.body["data"]["id"], first.body["data"]["name"]) == ("customer.created", "M-live", "Ada")
    assert admin.delete("/api/v1/customers/M-live").status_code == 204

    with open_stream(base_url, admin.access_token, last_event_id=first.id) as resumed:
        missed = resumed.next()
    assert (missed.type, missed.body["data"]) == ("customer.deleted", {"id": "M-live"})
    # Signing out ends the session's streams here too.
    with open_stream(base_url, admin.access_token) as stream:
        assert admin.post("/api/v1/auth/revoke", data={"token": admin.refresh_token}).status_code == 200
        assert stream.wait_for_end(5.0)
