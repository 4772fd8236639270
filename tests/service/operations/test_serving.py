"""The real server process: clean shutdown under load, JSON logs with request ids, metrics."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.operations.server_process import Server, serving_process


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    settings = {
        "CRM_LOG_FORMAT": "json",
        "CRM_SHUTDOWN_DELAY_SECONDS": "1",
        "CRM_SHUTDOWN_DRAIN_SECONDS": "10",
    }
    with serving_process(database_url, tmp_path, settings) as server:
        yield server


def test_sigterm_under_load_turns_unready_finishes_in_flight_work_and_exits_0(server: Server) -> None:
    results: list[int | str] = []
    ready_states: list[int] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            while not stop.is_set():
                try:
                    results.append(client.get("/health/ready").status_code)
                except httpx.TransportError as error:
                    results.append(type(error).__name__)

    def watch_readiness() -> None:
        # Plays the load balancer: stops sending traffic as soon as readiness fails.
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            while not stop.is_set():
                status = client.get("/health/ready").status_code
                ready_states.append(status)
                if status == 503:
                    stop.set()
                time.sleep(0.05)

    workers = [threading.Thread(target=load) for _ in range(4)] + [threading.Thread(target=watch_readiness)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)
    server.process.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.join(20)
    assert server.process.wait(30) == 0
    assert 503 in ready_states, "readiness never reported the shutdown"
    assert len(results) > 50
    failures = [result for result in results if result not in (200, 503)]
    assert failures == [], failures
    # Nothing answers any more.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.base_url}/health/live", timeout=2)


def test_logs_are_json_lines_with_request_ids_and_metrics_are_exported(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/api/v1/customers", headers={"X-Request-ID": "trace-me-123"})
    assert response.status_code == 401
    metrics = httpx.get(f"{server.base_url}/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert "crm_requests_total" in text
    assert 'path="/api/v1/customers"' in text
    assert "crm_request_duration_seconds_bucket" in text
    assert "crm_db_pool_connections" in text
    assert "crm_db_connections_opened_total" in text
    assert "crm_log_lines_dropped_total 0.0" in text
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    records = server.log_records()
    access = [record for record in records if record.get("request_id") == "trace-me-123"]
    assert access, server.log.read_text()[-2000:]
    line = access[-1]
    assert line["route"] == "/api/v1/customers"
    assert line["status"] == 401
    assert line["method"] == "GET"
    assert line["logger"] == "crm.access"
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"
    assert "timestamp" in line


def test_a_clean_stop_writes_every_access_line(server: Server) -> None:
    """Lines are written in batches from a thread: a SIGTERM right after the last answer loses none of them."""
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        for number in range(300):
            assert client.get("/health/live", headers={"X-Request-ID": f"flush-{number}"}).status_code == 200
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    seen = {record.get("request_id") for record in server.log_records() if record.get("logger") == "crm.access"}
    missing = [number for number in range(300) if f"flush-{number}" not in seen]
    assert missing == []
