"""Webhook deliveries end to end: the API on PostgreSQL, delivery workers (`crm webhooks work` processes, or the one
inside the server), and a receiver on a loopback port that records what arrives."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from crm.app import create_app
from crm.container import Application, build_container
from crm.settings import Settings
from tests.service.api.conftest import Accounts, make_settings
from tests.service.api.helpers import SignedIn
from tests.service.api.server import serve_in_thread


@dataclass
class Arrival:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """Records every request; ``hold`` says how long to wait before answering one, ``status`` what to answer."""

    url: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    hold: Callable[[Arrival], float] = lambda arrival: 0.0
    status: int = 204
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)

    def unique(self) -> dict[str, Arrival]:
        """By webhook-id, first arrival kept: what a deduplicating receiver processes."""
        found: dict[str, Arrival] = {}
        for arrival in self.received():
            found.setdefault(arrival.headers["webhook-id"], arrival)
        return found

    def wait_for(self, condition: Callable[[Receiver], bool], within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not condition(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met within {within} s; got {len(self.received())}")
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recorder = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrival = Arrival({key.lower(): value for key, value in self.headers.items()}, body, time.time())
            with recorder.lock:
                recorder.arrivals.append(arrival)
            time.sleep(recorder.hold(arrival))
            with contextlib.suppress(OSError):
                self.send_response(recorder.status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # The default backlog of 5 drops connections when a worker sends many deliveries at once; the dropped
        # SYNs are retried after a second or more, which would measure the receiver, not the service.
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/crm"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def webhook_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(database_url, tmp_path_factory.mktemp("photos")).replace(webhook_allow_private=True)


@pytest.fixture(scope="session")
def base_url(webhook_settings: Settings) -> Iterator[str]:
    """The API without a delivery worker of its own: the tests start and stop workers."""
    with serve_in_thread(lambda url: create_app(webhook_settings.replace(public_url=url))) as url:
        yield url


@pytest.fixture(scope="session")
async def seeding(webhook_settings: Settings) -> Any:
    container = build_container(webhook_settings)
    yield container
    await container.adapters.engine().dispose()


@pytest.fixture
def client(base_url: str, clean_database: AsyncEngine) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def accounts(seeding: Application, client: httpx.Client) -> Accounts:
    return Accounts(seeding, client)


@pytest.fixture
async def admin(accounts: Accounts) -> SignedIn:
    return await accounts.signed_in(admin=True, name="Alice Admin")


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL: no chance to finish or release anything; the database ends its transaction."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
def workers(webhook_settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Starts `crm webhooks work` processes (extra environment variables as keywords); all are stopped when the test
    ends."""
    started: list[Worker] = []
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    assert webhook_settings.database_url is not None
    environment = {
        **keep,
        "CRM_ENV": "test",
        "DATABASE_URL": webhook_settings.database_url,
        "SECRET_KEY": webhook_settings.secret_key,
        "CRM_WEBHOOK_ALLOW_PRIVATE": "true",
        "CRM_LOG_LEVEL": "INFO",
        "CRM_DB_POOL_SIZE": "6",
    }

    def start(**variables: str) -> Worker:
        log = tmp_path / f"worker-{len(started)}.log"
        crm = Path(sys.executable).with_name("crm")
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(crm), "webhooks", "work", "--metrics-port", "0"],
                env={**environment, **variables},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()
