"""The real server process for the operations tests: ``crm serve`` started on a free port, ready when its
readiness probe says so, killed with its process group if a test leaves it running."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[str]
    base_url: str
    log: Path
    lines: list[str] = field(default_factory=list)

    def log_records(self) -> list[dict[str, object]]:
        records = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records


@contextlib.contextmanager
def serving_process(database_url: str, tmp_path: Path, settings: dict[str, str]) -> Iterator[Server]:
    """``crm serve`` on the test's database with ``settings`` on top of a test configuration; its output in
    ``tmp_path/server.log``."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {
        **os.environ,
        "CRM_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "serving-test-" + "s" * 40,
        "PORT": str(port),
        "CRM_PHOTO_DIR": str(tmp_path / "photos"),
        **settings,
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "crm", "serve", "--no-migrate"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the server did not become ready:\n" + log.read_text()
            time.sleep(0.1)
        yield Server(process, base_url, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
