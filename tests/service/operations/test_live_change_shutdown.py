"""SIGTERM with open live change streams and ordinary load: the streams end at once with a ``retry:`` hint, the
ordinary requests all succeed, and the process exits well inside the drain time (streams never hold it up)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.service.api.event_streams import open_stream
from tests.service.operations.server_process import Server, serving_process

ADMIN_EMAIL = "shutdown-admin@example.com"
ADMIN_PASSWORD = "a long and uncommon passphrase 93"
DRAIN_SECONDS = 20
# The hint the streams get (CRM_SHUTDOWN_DELAY_SECONDS, at least a second).
RETRY_MS = 1000


@pytest.fixture
def serving(database_url: str, clean_database: AsyncEngine, tmp_path: Path) -> Iterator[Server]:
    settings = {
        "CRM_SHUTDOWN_DELAY_SECONDS": "1",
        "CRM_SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS),
        "CRM_BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "CRM_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "CRM_PASSWORD_TIME_COST": "1",
        "CRM_PASSWORD_MEMORY_KIB": "1024",
        "CRM_PASSWORD_PARALLELISM": "1",
    }
    with serving_process(database_url, tmp_path, settings) as server:
        yield server


def test_sigterm_ends_the_streams_at_once_and_fails_no_ordinary_request(serving: Server) -> None:
    signed_in = httpx.post(
        f"{serving.base_url}/api/v1/auth/token",
        data={"grant_type": "password", "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    streams = [open_stream(serving.base_url, token) for _ in range(5)]
    assert [stream.status for stream in streams] == [200] * 5
    results: list[int | str] = []
    stop = threading.Event()

    def load() -> None:
        # Ordinary reads until readiness fails, as a load balancer would stop sending them.
        with httpx.Client(base_url=serving.base_url, timeout=10) as client:
            while not stop.is_set():
                try:
                    answer = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
                    results.append(answer.status_code)
                    if client.get("/health/ready").status_code == 503:
                        stop.set()
                except httpx.TransportError as error:
                    results.append(type(error).__name__)

    workers = [threading.Thread(target=load) for _ in range(3)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    while len(results) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    signalled = time.monotonic()
    serving.process.send_signal(signal.SIGTERM)

    for stream in streams:
        assert stream.wait_for_end(DRAIN_SECONDS), "a stream outlived the shutdown"
    streams_ended = time.monotonic() - signalled
    for worker in workers:
        worker.join(DRAIN_SECONDS)
    assert serving.process.wait(DRAIN_SECONDS + 10) == 0
    exited = time.monotonic() - signalled
    for stream in streams:
        stream.close()

    assert all(stream.retry == RETRY_MS for stream in streams)
    assert all(stream.comments[-1] == "shutting down" for stream in streams), [s.comments for s in streams]
    # At once: before granian is even told to stop (after the 1 s readiness delay), let alone drains.
    assert streams_ended < 1.0, streams_ended
    assert exited < DRAIN_SECONDS / 2, exited
    assert len(results) >= 20
    assert [result for result in results if result != 200] == []
