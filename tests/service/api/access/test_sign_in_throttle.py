"""Throttling of failed sign-ins over HTTP, with the counts in PostgreSQL shared by every replica.

Two replicas on the test database: the suite's server, and one that sits behind a trusted proxy
(127.0.0.1), so that X-Forwarded-For names the client, and whose clock the test moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dependency_injector import providers
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine

from crm.app import build_asgi_app
from crm.container import build_container
from crm.settings import Settings
from tests.service.api.conftest import Accounts
from tests.service.api.helpers import PASSWORD, TOKEN_URL, assert_problem, password_grant
from tests.service.api.server import serve_in_thread
from tests.support.clock import ManualClock

WRONG = "not the password, but long enough"
WINDOW = timedelta(minutes=15)


@dataclass
class Replica:
    url: str
    clock: ManualClock

    def sign_in(self, email: str, password: str = PASSWORD, client: str | None = None) -> httpx.Response:
        headers = {"X-Forwarded-For": client} if client else {}
        data = {"grant_type": "password", "username": email, "password": password}
        return httpx.post(f"{self.url}/api/v1/auth/token", data=data, headers=headers, timeout=30)

    def catch_up(self) -> None:
        """Set the replica's clock, which stands still, to the real time (the other replica's clock)."""
        self.clock.advance(datetime.now(UTC) - self.clock.now())


@pytest.fixture(scope="module")
def proxied_replica(settings: Settings) -> Iterator[Replica]:
    clock = ManualClock(datetime.now(UTC))

    def make_app(url: str) -> object:
        container = build_container(settings.replace(public_url=url, trusted_proxies=("127.0.0.1/32",)))
        container.clock.override(clock)
        # Without a pool, no connection outlives the server's event loop; and with no engine handed over,
        # this second app in the process does not register the pool metrics a second time.
        assert settings.database_url is not None
        container.adapters.engine.override(
            providers.Singleton(create_async_engine, settings.database_url, poolclass=pool.NullPool)
        )
        return build_asgi_app(container, None)[1]

    with serve_in_thread(make_app) as url:
        yield Replica(url, clock)


async def test_a_burst_of_wrong_passwords_is_answered_429_with_retry_after(
    accounts: Accounts, client: httpx.Client
) -> None:
    user = await accounts.user()
    for _ in range(5):
        response = password_grant(client, user.email, WRONG)
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"

    for password in (WRONG, PASSWORD):  # the right password must not be told apart now
        response = password_grant(client, user.email, password)
        body = assert_problem(response, 429)
        assert body["type"] == "/problems/too-many-requests"
        assert 0 < int(response.headers["retry-after"]) <= WINDOW.total_seconds()
        assert "access_token" not in response.text


async def test_the_limit_is_shared_per_client_and_the_owner_gets_back_in(
    accounts: Accounts, client: httpx.Client, proxied_replica: Replica
) -> None:
    user = await accounts.user()
    # The suite's replica sees the client as 127.0.0.1.
    for _ in range(5):
        assert password_grant(client, user.email, WRONG).status_code == 400
    assert password_grant(client, user.email).status_code == 429
    proxied_replica.catch_up()

    # The other replica refuses the same client (no X-Forwarded-For: the proxy's own address) as well.
    refused = proxied_replica.sign_in(user.email)
    assert_problem(refused, 429)
    assert 0 < int(refused.headers["retry-after"]) <= WINDOW.total_seconds()
    # The owner, from another address, still signs in; a client merely claiming an address does not.
    assert proxied_replica.sign_in(user.email, client="198.51.100.7").status_code == 200
    claimed = client.post(
        TOKEN_URL,
        data={"grant_type": "password", "username": user.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert claimed.status_code == 429

    # Once the window has passed, the right password works from the throttled client too.
    proxied_replica.clock.advance(WINDOW)
    assert proxied_replica.sign_in(user.email).status_code == 200


async def test_each_client_address_behind_the_proxy_counts_on_its_own(
    accounts: Accounts, client: httpx.Client, proxied_replica: Replica
) -> None:
    user = await accounts.user()
    proxied_replica.catch_up()
    for _ in range(5):
        assert proxied_replica.sign_in(user.email, WRONG, client="203.0.113.5").status_code == 400
    throttled = proxied_replica.sign_in(user.email, client="203.0.113.5")
    assert_problem(throttled, 429)
    assert throttled.headers["retry-after"] == str(int(WINDOW.total_seconds()))
    assert proxied_replica.sign_in(user.email, client="198.51.100.7").status_code == 200
    # The suite's replica sees 127.0.0.1, which has no failures.
    assert password_grant(client, user.email).status_code == 200

    proxied_replica.clock.advance(WINDOW - timedelta(seconds=1))
    assert proxied_replica.sign_in(user.email, client="203.0.113.5").headers["retry-after"] == "1"
    proxied_replica.clock.advance(timedelta(seconds=1))
    assert proxied_replica.sign_in(user.email, client="203.0.113.5").status_code == 200
