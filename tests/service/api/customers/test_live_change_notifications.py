"""Customer writes notify only while live changes are followed (migration 0009, decision record 0043), over real
HTTP on a database and service of their own (no other test's hub listens there). The service polls once a minute:
a change that reaches a stream within seconds was brought by its notification."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from adapters.sql.migrate import upgrade_to_head
from application.access.users import NewUser
from crm.app import create_app
from crm.container import build_container
from domain.sign_in import SYSTEM_OPERATOR
from tests.service.api.conftest import make_settings
from tests.service.api.event_streams import open_stream
from tests.service.api.helpers import PASSWORD, SignedIn, sign_in
from tests.service.api.server import serve_in_thread
from tests.support.database import create_database, drop_database, url_of_database
from tests.support.notifications import Watcher

# Far past every wait below (the setting allows 900 ms at most; the structure takes any value in tests).
POLL_MS = 60_000
LINGER_SECONDS = 3
PROMPTLY = 5.0


@dataclass
class FollowedService:
    user: SignedIn
    base_url: str
    watcher: Watcher

    def create(self, customer_id: str) -> float:
        """Create a customer; when the answer came (the change had committed by then)."""
        body = {"id": customer_id, "name": "Ada", "surname": "Lovelace"}
        assert self.user.post("/api/v1/customers", json=body).status_code == 201
        return time.monotonic()


@pytest.fixture
async def service(postgres_server_url: str, tmp_path: Path) -> AsyncIterator[FollowedService]:
    name = await create_database(postgres_server_url)
    try:
        url = url_of_database(postgres_server_url, name)
        await upgrade_to_head(url)
        settings = make_settings(url, tmp_path / "photos").replace(
            live_changes_poll_ms=POLL_MS, live_changes_linger_seconds=LINGER_SECONDS
        )
        container = build_container(settings)
        user = await container.create_user().execute(SYSTEM_OPERATOR, NewUser("clara@example.com", "Clara", PASSWORD))
        await container.adapters.engine().dispose()
        watcher = await Watcher.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        try:
            with (
                serve_in_thread(lambda base: create_app(settings.replace(public_url=base))) as base_url,
                httpx.Client(base_url=base_url, timeout=30) as client,
            ):
                yield FollowedService(sign_in(client, user.email), base_url, watcher)
        finally:
            await watcher.aclose()
    finally:
        await drop_database(postgres_server_url, name)


async def test_writes_notify_while_a_stream_is_open_and_the_stream_is_woken(service: FollowedService) -> None:
    watcher = service.watcher
    service.create("C-0")
    assert await watcher.live_changes_listeners() == []
    assert await watcher.heard_in_round() == []

    with open_stream(service.base_url, service.user.access_token) as stream:
        assert stream.status == 200
        await watcher.wait_for_listeners(1)
        for n in (1, 2, 3):
            committed = service.create(f"C-{n}")
            event = stream.next(timeout=PROMPTLY)
            took = time.monotonic() - committed
            assert event.body["data"]["id"] == f"C-{n}"
            assert took < PROMPTLY < POLL_MS / 1000, f"C-{n} took {took:.3f} s"
        assert await watcher.heard_in_round() == ["", "", ""]


async def test_after_the_last_stream_and_the_grace_writes_stop_notifying(service: FollowedService) -> None:
    watcher = service.watcher
    with open_stream(service.base_url, service.user.access_token) as first:
        assert first.status == 200
        [listener] = await watcher.wait_for_listeners(1)
    # A client that comes back at once finds the hub still there: the same listener, not a new connection.
    with open_stream(service.base_url, service.user.access_token) as again:
        assert again.status == 200
        assert await watcher.live_changes_listeners() == [listener]
        service.create("C-1")
        assert again.next(timeout=PROMPTLY).body["data"]["id"] == "C-1"
    closed = time.monotonic()
    assert await watcher.heard_in_round() == [""]

    await watcher.wait_for_listeners(0, within=LINGER_SECONDS + 10)
    assert time.monotonic() - closed >= LINGER_SECONDS - 0.5
    service.create("C-2")
    service.create("C-3")
    assert await watcher.heard_in_round() == []

    # Followed again: notified again, and the new stream gets what comes next.
    with open_stream(service.base_url, service.user.access_token) as later:
        await watcher.wait_for_listeners(1)
        committed = service.create("C-4")
        assert later.next(timeout=PROMPTLY).body["data"]["id"] == "C-4"
        assert time.monotonic() - committed < PROMPTLY
    assert await watcher.heard_in_round() == [""]
