"""Running a release as the fleet runs it: its own ``crm`` command, in a process of its own, on the shared database.

Every release of one fleet shares the database, the secret (tokens signed by one release are good on the other) and
the photo storage (a local folder here, a bucket in production); each has its own data folder and port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.releases.installation import Release

START_TIMEOUT_SECONDS = 60.0
# What the processes must not inherit from whoever runs the tests: settings, and the tests' own environment.
_NOT_INHERITED = ("DATABASE_URL", "SECRET_KEY", "PORT", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")


@dataclass(frozen=True, slots=True)
class Fleet:
    """What every release serving one database shares."""

    database_url: str  # postgresql://…
    secret_key: str
    photo_dir: Path
    work_dir: Path  # data folders and server logs
    # Seconds a stopping server stays up while answering 503 on /health/ready (CRM_SHUTDOWN_DELAY_SECONDS).
    shutdown_delay_seconds: int = 0

    def environment(self, data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("CRM_", "GRANIAN_")) and name not in _NOT_INHERITED
        }
        env.update(
            CRM_ENV="test",
            DATABASE_URL=self.database_url,
            SECRET_KEY=self.secret_key,
            CRM_DATA_DIR=str(data_dir),
            CRM_PHOTO_DIR=str(self.photo_dir),
            CRM_LOG_LEVEL="WARNING",
            # Cheap password hashing: the scenario signs in often; the parameters are not what it checks.
            CRM_PASSWORD_TIME_COST="1",
            CRM_PASSWORD_MEMORY_KIB="1024",
            CRM_PASSWORD_PARALLELISM="1",
            CRM_SHUTDOWN_DELAY_SECONDS=str(self.shutdown_delay_seconds),
        )
        env.update(extra or {})
        return env


def run_command(release: Release, fleet: Fleet, *args: str, stdin: str = "") -> str:
    """``crm ARGS`` of the release on the fleet's database; its output, or an error naming the release."""
    done = subprocess.run(
        [str(release.crm), *args],
        cwd=release.root,
        env=fleet.environment(fleet.work_dir / f"{release.name}-cli"),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{release.name}: crm {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return done.stdout + done.stderr


def create_admin(release: Release, fleet: Fleet, email: str, name: str, password: str) -> None:
    run_command(release, fleet, "users", "create-admin", "--email", email, "--name", name, stdin=password + "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    release: Release
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path

    def terminate(self) -> None:
        """SIGTERM, as Kubernetes sends it: the server drains and exits by itself."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise RuntimeError(f"{self.release.name} did not stop within {timeout} s:\n{self.log_tail()}") from None

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def start(
    release: Release, fleet: Fleet, extra: Mapping[str, str] | None = None, timeout: float = START_TIMEOUT_SECONDS
) -> Server:
    """``crm serve`` of the release with one worker, ready (``/health/ready`` answers 200) on a free port."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    data_dir = fleet.work_dir / f"{release.name}-{port}"
    log = fleet.work_dir / f"{release.name}-{port}.log"
    env = fleet.environment(data_dir, {"CRM_PUBLIC_URL": base_url, **(extra or {})})
    command = [str(release.crm), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-migrate"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=release.root, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(release, base_url, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{release.name} exited with {process.returncode}:\n{server.log_tail()}")
        try:
            if httpx.get(base_url + "/health/ready", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.terminate()
    server.wait()
    raise RuntimeError(f"{release.name} was not ready within {timeout} s:\n{server.log_tail()}")


@contextmanager
def serving(release: Release, fleet: Fleet) -> Iterator[Server]:
    server = start(release, fleet)
    try:
        yield server
    finally:
        server.terminate()
        server.wait()
