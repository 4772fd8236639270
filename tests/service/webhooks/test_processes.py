"""The processes that deliver: `make run` on a database of one's own delivers itself, and the worker logs in the
format CRM_LOG_FORMAT names."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook as StandardWebhook

from crm.settings import Settings
from tests.service.api.helpers import SignedIn
from tests.service.webhooks.conftest import Receiver, Worker

REPOSITORY = Path(__file__).resolve().parents[3]


def _make_run_command() -> list[str]:
    """What `make run` runs (`make -n` prints it without running it), with the checkout's own `crm`."""
    recipe = subprocess.run(
        ["make", "-n", "-s", "run"], cwd=REPOSITORY, capture_output=True, text=True, check=True
    ).stdout.splitlines()[-1]
    words = shlex.split(recipe)
    at = words.index("crm")
    return [str(Path(sys.executable).with_name("crm")), *words[at + 1 :]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def make_run(webhook_settings: Settings, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Starts what `make run` starts, with DATABASE_URL set; answers its base URL once it is ready."""
    processes: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "serve.log"

    def start() -> str:
        port = _free_port()
        assert webhook_settings.database_url is not None
        environment = {
            **{name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ},
            "CRM_ENV": "test",
            "DATABASE_URL": webhook_settings.database_url,
            "SECRET_KEY": webhook_settings.secret_key,
            "PORT": str(port),
            "CRM_DATA_DIR": str(tmp_path / "var"),
            "CRM_WEBHOOK_ALLOW_PRIVATE": "true",
            "CRM_SHUTDOWN_DELAY_SECONDS": "0",
        }
        with log.open("wb") as output:
            process = subprocess.Popen(
                _make_run_command(),
                cwd=REPOSITORY,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                    return url
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "crm serve did not become ready:\n" + log.read_text()
            time.sleep(0.1)

    yield start
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_make_run_asks_for_the_delivery_worker() -> None:
    assert _make_run_command()[1:] == ["serve", "--webhooks"]


async def test_make_run_with_a_database_url_delivers_signed_webhooks(
    make_run: Callable[[], str], admin: SignedIn, receiver: Receiver
) -> None:
    url = make_run()
    with httpx.Client(base_url=url, timeout=30) as client:
        own = SignedIn(client, admin.access_token, admin.refresh_token, admin.user_id)
        created = own.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["customer.created"]})
        assert created.status_code == 201, created.text
        response = own.post("/api/v1/customers", json={"id": "C-7", "name": "Ada", "surname": "Lovelace"})
        assert response.status_code == 201, response.text
        receiver.wait_for(lambda r: len(r.unique()) == 1)
    (arrival,) = receiver.unique().values()
    payload: dict[str, Any] = StandardWebhook(created.json()["secret"]).verify(arrival.body, arrival.headers)
    assert payload["type"] == "customer.created"
    assert payload["data"]["id"] == "C-7"


def test_the_worker_logs_json_lines_when_told_to(workers: Callable[..., Worker]) -> None:
    worker = workers(CRM_LOG_FORMAT="json")
    deadline = time.monotonic() + 30
    while "Webhook delivery worker started." not in worker.output():
        assert worker.process.poll() is None, worker.output()
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.1)
    assert worker.stop() == 0
    records = [json.loads(line) for line in worker.output().splitlines() if line.strip()]
    started = next(record for record in records if record["event"] == "Webhook delivery worker started.")
    assert started["level"] == "info"
    assert started["logger"] == "crm.webhooks"
    assert "timestamp" in started
    assert any(record["event"] == "Webhook delivery worker stopped." for record in records)
