"""Two real service processes (``crm serve``: granian, one worker each) on the test database.

Each replica is its own process group, so that stopping it also stops granian's worker; whatever
happens, the group is killed when the fixture ends. Users are seeded through a container of this
process on the same database, as a third replica would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.access.change_listener import LISTENER_APPLICATION_NAME
from application.access.users import NewUser
from crm.container import Application, build_container
from crm.settings import Settings
from domain.sign_in import SYSTEM_OPERATOR
from tests.service.api.helpers import PASSWORD, TOKEN_URL

SECRET_KEY = "replica-test-secret-" + "r" * 40
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

# What a replica logs once its listener is gone and its actor cache answers no more (auth_change_listener.py).
CACHE_OFF = "the actor cache is off"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(database_url: str, port: int, photo_dir: Path) -> dict[str, str]:
    keep = {
        name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR", "SSL_CERT_FILE") if name in os.environ
    }
    return {
        **keep,
        "CRM_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PORT": str(port),
        "CRM_HOST": "127.0.0.1",
        "CRM_WORKERS": "1",
        "CRM_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CRM_PHOTO_DIR": str(photo_dir),
        "CRM_LOG_LEVEL": "WARNING",
        "CRM_PASSWORD_TIME_COST": "1",
        "CRM_PASSWORD_MEMORY_KIB": "1024",
        "CRM_PASSWORD_PARALLELISM": "1",
        "CRM_DB_POOL_SIZE": "3",
        "CRM_DB_MAX_OVERFLOW": "2",
        # Off: these tests make many requests as one caller; test_fair_use_across_replicas.py starts its own.
        "CRM_RATE_LIMIT_REQUESTS": "0",
    }


@dataclass
class Replica:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base_url, timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def output_count(self, text: str) -> int:
        """How many times ``text`` appears in everything the replica has logged so far."""
        return self.log.read_text(errors="replace").count(text)

    def owns(self, pid: int) -> bool:
        """Whether ``pid`` is this replica's process or one of its workers (they share its process group)."""
        try:
            return os.getpgid(pid) == self.process.pid
        except ProcessLookupError:
            return False

    def get(self, url: str, token: str) -> httpx.Response:
        return self.client.get(url, headers={"Authorization": f"Bearer {token}"})

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post(TOKEN_URL, data={"grant_type": "password", "username": email, "password": password})


def start_replica(name: str, database_url: str, folder: Path, settings: Mapping[str, str] | None = None) -> Replica:
    """Replica ``name`` starting, with ``settings`` (environment variables) over the suite's."""
    port = _free_port()
    photo_dir = folder / f"photos-{name}"
    photo_dir.mkdir()
    log = folder / f"replica-{name}.log"
    crm = Path(sys.executable).with_name("crm")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(crm), "serve", "--no-migrate", "--host", "127.0.0.1", "--port", str(port)],
            env={**_environment(database_url, port, photo_dir), **(settings or {})},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as a whole, workers included
        )
    return Replica(name, f"http://127.0.0.1:{port}", process, log)


def wait_until_ready(replica: Replica, deadline: float) -> None:
    while True:
        if replica.process.poll() is not None:
            raise RuntimeError(f"Replica {replica.name} exited with {replica.process.returncode}:\n{replica.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if replica.client.get("/health/ready").status_code == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Replica {replica.name} was not ready within {START_TIMEOUT} s:\n{replica.output()}")
        time.sleep(0.05)


def stop_replica(replica: Replica) -> None:
    replica.client.close()
    if replica.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(replica.process.pid, signal.SIGTERM)
    try:
        replica.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(replica.process.pid, signal.SIGKILL)
        replica.process.wait(timeout=STOP_TIMEOUT)
    # A worker that outlived granian's main process still belongs to the group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(replica.process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def replicas(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, Replica]]:
    """Replicas A and B, ready: serving, and each listening for auth changes."""
    folder = tmp_path_factory.mktemp("replicas")
    started: list[Replica] = []
    try:
        for name in ("a", "b"):
            started.append(start_replica(name, database_url, folder))
        deadline = time.monotonic() + START_TIMEOUT
        for replica in started:
            wait_until_ready(replica, deadline)
        yield started[0], started[1]
    finally:
        for replica in started:
            stop_replica(replica)


@dataclass
class Listeners:
    """The replicas' listener connections, as PostgreSQL sees them."""

    engine: AsyncEngine

    async def backends(self, replica: Replica) -> list[int]:
        """Server process ids of ``replica``'s listener connections."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT pid, application_name FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name LIKE :name"
                ),
                {"name": f"{LISTENER_APPLICATION_NAME}:%"},
            )
            return [row.pid for row in rows if replica.owns(int(row.application_name.rpartition(":")[2]))]

    async def wait_for(self, replica: Replica, *, present: bool, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while bool(await self.backends(replica)) != present:
            if time.monotonic() > deadline:
                state = "connect" if present else "disconnect"
                raise AssertionError(f"Replica {replica.name}'s listener did not {state}:\n{replica.output()}")
            await asyncio.sleep(0.02)

    async def kill(self, replica: Replica) -> None:
        """End ``replica``'s listener connection from the server side, as a failover or network cut would."""
        backends = await self.backends(replica)
        assert backends, f"replica {replica.name} has no listener connection"
        noticed_before = replica.output_count(CACHE_OFF)
        async with self.engine.connect() as connection:
            for pid in backends:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await connection.commit()
        await self.wait_for(replica, present=False)
        # The server has ended the connection; the replica learns it when its event loop reads the socket, which
        # on a loaded machine can come after the next request. The outage starts for the replica when it logs it.
        deadline = time.monotonic() + 10.0
        while replica.output_count(CACHE_OFF) == noticed_before:
            if time.monotonic() > deadline:
                raise AssertionError(f"Replica {replica.name} did not notice its listener's loss:\n{replica.output()}")
            await asyncio.sleep(0.02)


@pytest.fixture
async def listeners(engine: AsyncEngine, replicas: tuple[Replica, Replica]) -> Listeners:
    found = Listeners(engine)
    for replica in replicas:
        await found.wait_for(replica, present=True)
    return found


@pytest.fixture(scope="session")
async def seeding(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Application]:
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET_KEY,
        photo_dir=tmp_path_factory.mktemp("seeding-photos"),
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
    )
    container = build_container(settings)
    yield container
    await container.adapters.engine().dispose()


@dataclass
class Accounts:
    container: Application

    async def create(self, *, admin: bool = False, name: str = "Replica User") -> str:
        """A new user's e-mail."""
        email = f"replica-{uuid.uuid4().hex[:10]}@example.com"
        await self.container.create_user().execute(SYSTEM_OPERATOR, NewUser(email, name, PASSWORD, is_admin=admin))
        return email


@pytest.fixture
def accounts(seeding: Application, clean_database: AsyncEngine) -> Accounts:
    # Empty tables, as in the API tests: no earlier suite's failed sign-ins count against this client.
    return Accounts(seeding)
