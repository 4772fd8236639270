"""Signing in with a third-party OpenID Connect provider through the token endpoint (RFC 8693).

A real provider runs on 127.0.0.1; the service under test is configured with it, as in production.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from application.access.users import NewUser
from crm.app import create_app
from crm.container import Application
from crm.settings import Settings
from domain.sign_in import SYSTEM_OPERATOR
from tests.adapters.security.conftest import ALICE_CLAIMS, CLIENT_ID, RunningProvider, running_provider
from tests.service.api.server import serve_in_thread

EXCHANGE = {
    "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
    "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
}


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def oidc_base_url(settings: Settings, provider: RunningProvider) -> Iterator[str]:
    configured = settings.replace(
        oidc_providers=json.dumps([{"name": "mock", "issuer": provider.issuer, "client_id": CLIENT_ID}]),
    )
    with serve_in_thread(lambda url: create_app(configured.replace(public_url=url))) as url:
        yield url


@pytest.fixture
def oidc_client(oidc_base_url: str, clean_database: None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=oidc_base_url, timeout=30) as client:
        yield client


def test_the_providers_are_listed_for_the_frontend(oidc_client: httpx.Client, provider: RunningProvider) -> None:
    response = oidc_client.get("/api/v1/auth/providers")
    assert response.json() == [{"name": "mock", "issuer": provider.issuer, "client_id": CLIENT_ID}]


async def test_a_registered_user_signs_in_with_the_provider(
    oidc_client: httpx.Client, provider: RunningProvider, seeding: Application
) -> None:
    user = await seeding.create_user().execute(SYSTEM_OPERATOR, NewUser("Alice@Example.com", "Alice"))  # no password
    id_token = await provider.id_token()
    response = oidc_client.post("/api/v1/auth/token", data={**EXCHANGE, "subject_token": id_token})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"]
    me = oidc_client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == str(user.id)


async def test_the_provider_never_creates_users(oidc_client: httpx.Client, provider: RunningProvider) -> None:
    id_token = await provider.id_token(sub="mallory", claims={"email": "mallory@example.com", "email_verified": True})
    response = oidc_client.post("/api/v1/auth/token", data={**EXCHANGE, "subject_token": id_token})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_unverified_emails_wrong_token_types_and_forgeries_are_refused(
    oidc_client: httpx.Client, provider: RunningProvider, seeding: Application
) -> None:
    await seeding.create_user().execute(SYSTEM_OPERATOR, NewUser("alice@example.com", "Alice"))
    unverified = await provider.id_token(claims={**ALICE_CLAIMS, "email_verified": False})
    response = oidc_client.post("/api/v1/auth/token", data={**EXCHANGE, "subject_token": unverified})
    assert response.json()["error"] == "invalid_grant"
    wrong_type = oidc_client.post(
        "/api/v1/auth/token",
        data={**EXCHANGE, "subject_token": await provider.id_token(), "subject_token_type": "urn:x"},
    )
    assert wrong_type.json()["error"] == "invalid_request"
    forged = oidc_client.post("/api/v1/auth/token", data={**EXCHANGE, "subject_token": "e30.e30.x"})
    assert forged.json()["error"] == "invalid_grant"
