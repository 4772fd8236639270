"""What bench/write_commits.py runs: pgbench's writers, a live change stream read over HTTP, the service that
serves it, and the cost of the commit trigger's check alone."""

from __future__ import annotations

import contextlib
import http.client
import re
import secrets
import socket
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx

from bench import database, processes, seed
from bench.servers import free_port, service_env

CUSTOMERS = 10_000
# bench.write_probe's change, for pgbench: a customer row and its history row, through 0008's triggers.
CHANGE = f"""\\set n random(1, {CUSTOMERS})
WITH c AS (
    UPDATE customers SET notes = 'bench ' || :n, updated_at = now(), version = version + 1
    WHERE id = 'C' || lpad(:n::text, 7, '0') RETURNING id, updated_by)
INSERT INTO customer_changes (customer_id, kind, actor_id, at, changes)
SELECT c.id, 'updated', c.updated_by, now(), '[]'::jsonb FROM c;
"""
LISTENERS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND application_name LIKE 'crm-live-changes:%'"
)
# Each commit reads pg_stat_activity afresh; within one transaction PostgreSQL would keep its first reading.
_CHECK_LOOP = "DO $$ BEGIN FOR i IN 1..{count} LOOP PERFORM pg_stat_clear_snapshot(); {check} END LOOP; END $$"


async def seeded(db: database.Database) -> None:
    connection = await asyncpg.connect(db.url)
    try:
        await seed.add_customers(connection, await seed.create_user(connection), 1, CUSTOMERS)
    finally:
        await connection.close()


def pgbench(url: str, script: Path, clients: int, seconds: float) -> float:
    """Commits per second of ``clients`` connections running ``script`` for ``seconds``."""
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(round(seconds))]
    result = subprocess.run([*command, "-f", str(script), url], capture_output=True, text=True, check=True)
    found = re.search(r"tps = ([0-9.]+)", result.stdout)
    if found is None:
        raise RuntimeError(f"pgbench said no tps:\n{result.stdout}\n{result.stderr}")
    return float(found.group(1))


class Stream:
    """One live change stream read in a thread, counting the events it gets; closing its socket ends it."""

    def __init__(self, base_url: str, token: str) -> None:
        self.events = 0
        address = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        self._connection.request("GET", "/api/v1/customers/changes", headers=headers)
        answer = self._connection.getresponse()
        if answer.status != 200:
            raise RuntimeError(f"the stream was refused: {answer.status} {answer.read()!r}")
        self._thread = threading.Thread(target=self._read, args=(answer,), daemon=True)
        self._thread.start()

    def _read(self, answer: http.client.HTTPResponse) -> None:
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError, AttributeError):
            for line in answer:
                self.events += line.startswith(b"id:")

    def close(self) -> None:
        if self._connection.sock is not None:
            with contextlib.suppress(OSError):
                self._connection.sock.shutdown(socket.SHUT_RDWR)
        self._connection.close()
        self._thread.join(5)


def service(db: database.Database, folder: Path) -> tuple[processes.Server, str]:
    """``crm serve`` (one worker) on ``db``, and an access token of the seeded user."""
    port = free_port()
    # The hub stops as soon as its stream closes, so that the next round's variant holds.
    extra = (("CRM_RATE_LIMIT_REQUESTS", "0"), ("CRM_LIVE_CHANGES_LINGER_SECONDS", "0"))
    env = service_env(db, secrets.token_urlsafe(48), folder / "data", extra)
    server = processes.start("service", processes.service_command(port), env, port, folder, "/health/ready")
    form = {"grant_type": "password", "username": "bench@example.com", "password": seed.PASSWORD}
    answer = httpx.post(server.base_url + "/api/v1/auth/token", data=form, timeout=30)
    answer.raise_for_status()
    return server, str(answer.json()["access_token"])


async def listeners(url: str, expected: int, within: float = 10.0) -> None:
    """Wait until ``expected`` live change listeners are connected to the database."""
    connection = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + within
        while (found := await connection.fetchval(LISTENERS)) != expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{found} live change listeners, not {expected}")
            await connection.execute("SELECT pg_sleep(0.1)")
    finally:
        await connection.close()


async def check_cost(url: str, check: str, count: int = 20_000) -> tuple[float, int]:
    """µs per ``check`` (a statement of PL/pgSQL), and the sessions on the server."""
    connection = await asyncpg.connect(url)
    try:
        took = []
        for body in ("", check):
            started = time.perf_counter()
            await connection.execute(_CHECK_LOOP.format(count=count, check=body))
            took.append(time.perf_counter() - started)
        sessions = int(await connection.fetchval("SELECT count(*) FROM pg_stat_activity"))
        return (took[1] - took[0]) / count * 1e6, sessions
    finally:
        await connection.close()
