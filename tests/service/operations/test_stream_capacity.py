"""A worker holding as many live change streams as it may still answers everything else at once, and refuses the
next stream with the contract's 503 instead of leaving it unanswered: granian's limit of connections per worker
(``--backpressure``) is the streams plus ``CRM_REQUEST_CONNECTIONS`` (decision record 0044)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.service.api.event_streams import EventStream, open_stream
from tests.service.operations.server_process import Server, serving_process

ADMIN_EMAIL = "capacity-admin@example.com"
ADMIN_PASSWORD = "a long and uncommon passphrase 57"
MAX_STREAMS = 3
REQUEST_CONNECTIONS = 3
# What "promptly" means for an answer on loopback; a connection past granian's limit gets none at all.
PROMPTLY = 4.0


@pytest.fixture
def serving(database_url: str, clean_database: AsyncEngine, tmp_path: Path) -> Iterator[Server]:
    settings = {
        "CRM_LIVE_CHANGES_MAX_STREAMS": str(MAX_STREAMS),
        "CRM_REQUEST_CONNECTIONS": str(REQUEST_CONNECTIONS),
        # Granian's own limit no higher than the streams, as its default (1024 ÷ workers) is to production's 1000
        # streams: `crm serve` must set the limit itself, whatever granian would otherwise take.
        "GRANIAN_BACKPRESSURE": str(MAX_STREAMS),
        "CRM_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "CRM_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CRM_PASSWORD_TIME_COST": "1",
        "CRM_PASSWORD_MEMORY_KIB": "1024",
        "CRM_PASSWORD_PARALLELISM": "1",
        # Everything here counts against the admin; the test is about connections, not fair use.
        "CRM_RATE_LIMIT_REQUESTS": "0",
    }
    with serving_process(database_url, tmp_path, settings) as server:
        yield server


@pytest.fixture
def full_of_streams(serving: Server) -> Iterator[tuple[Server, str, list[EventStream]]]:
    signed_in = httpx.post(
        f"{serving.base_url}/api/v1/auth/token",
        data={"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        timeout=PROMPTLY,
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    streams = [open_stream(serving.base_url, token) for _ in range(MAX_STREAMS)]
    try:
        assert [stream.status for stream in streams] == [200] * MAX_STREAMS
        yield serving, token, streams
    finally:
        for stream in streams:
            stream.close()


def _get(base_url: str, path: str, token: str | None = None) -> tuple[int, float]:
    """The status of a GET on a connection of its own, and how long it took; a timeout fails the test."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.monotonic()
    try:
        answer = httpx.get(f"{base_url}{path}", headers=headers, timeout=PROMPTLY)
    except httpx.TimeoutException:
        pytest.fail(f"GET {path} got no answer within {PROMPTLY} s while the streams are open")
    return answer.status_code, time.monotonic() - started


def test_a_worker_full_of_streams_answers_probes_and_requests_and_refuses_the_next_stream(
    full_of_streams: tuple[Server, str, list[EventStream]],
) -> None:
    server, token, streams = full_of_streams

    assert _get(server.base_url, "/health/ready")[0] == 200
    assert _get(server.base_url, "/health/live")[0] == 200
    assert _get(server.base_url, "/api/v1/customers", token)[0] == 200

    started = time.monotonic()
    refused = open_stream(server.base_url, token)
    refused.close()
    assert refused.status == 503, refused.problem
    assert refused.problem is not None and "live change streams" in refused.problem["detail"]
    assert time.monotonic() - started < PROMPTLY
    # The streams themselves are untouched: still open.
    assert not any(stream.ended.is_set() for stream in streams)


def _idle_connection(server: Server) -> http.client.HTTPConnection:
    """A keep-alive connection that has been answered once and stays open, as a load balancer's pool keeps them."""
    port = int(server.base_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PROMPTLY)
    connection.request("GET", "/health/live")
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200
    return connection


def test_the_limit_is_the_streams_plus_the_request_connections_and_a_connection_past_it_waits(
    full_of_streams: tuple[Server, str, list[EventStream]],
) -> None:
    server, _, _ = full_of_streams
    idle = [_idle_connection(server) for _ in range(REQUEST_CONNECTIONS)]
    try:
        # Every connection granian may take is taken: the next one is accepted by the kernel only, unanswered.
        port = int(server.base_url.rsplit(":", 1)[1])
        waiting = http.client.HTTPConnection("127.0.0.1", port, timeout=1.5)
        waiting.request("GET", "/health/ready")
        with pytest.raises(socket.timeout):
            waiting.getresponse()
        waiting.close()

        # One connection fewer, and the next is served at once.
        idle.pop().close()
        status, took = _get(server.base_url, "/health/ready")
        assert status == 200
        assert took < PROMPTLY
    finally:
        for connection in idle:
            with contextlib.suppress(OSError):
                connection.close()
