"""What the limiter adds to a whole GET by id, in CPU instructions: a count that others on the machine cannot move.

``bench/fair_use.py`` measures requests per second and CPU time per request, both of which a loaded machine blurs
(on a 2-core machine at load 8 they once showed the limiter on costing 75 µs more per request, which it did not).
Here one process runs the service's ASGI app (``crm.asgi``, the limiter off or on with a quota never reached) under
valgrind's callgrind, signs in, warms up, then serves ``--requests`` GET by id on PostgreSQL, called in-process
(no HTTP server: granian's part is the same in both and not Python). Instrumentation is switched on for those
requests only (``callgrind_control``), so start-up is not counted. The replicas' exchange is paused while counting:
it runs once a second, not per request, and under valgrind a second holds a few hundred requests, not thousands.

    .venv/bin/python -m bench.fair_use_instructions [--requests 300]

Needs valgrind (``apt-get install valgrind``). Takes a minute or two; both configurations run at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import database, seed
from bench.options import BASE_ROWS
from bench.servers import service_env
from bench.workloads import seed_base

CONFIGURATIONS = {
    "limiter off": (("CRM_RATE_LIMIT_REQUESTS", "0"),),
    "limiter on": (("CRM_RATE_LIMIT_REQUESTS", "1000000"), ("CRM_RATE_LIMIT_WINDOW_SECONDS", "10")),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the process under callgrind
    args, _ = parser.parse_known_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve, args.requests))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install valgrind")
    print(json.dumps(instructions_per_request(args.requests), indent=2))


def instructions_per_request(requests: int) -> dict[str, float]:
    """Instructions per GET by id, by configuration."""
    with tempfile.TemporaryDirectory(prefix="crm-bench-instructions-") as folder, database.server() as server_url:
        work = Path(folder)
        db = asyncio.run(database.create(server_url))
        try:
            user = asyncio.run(seed_base(db.url))
            secret = secrets.token_urlsafe(48)
            running = {}
            for name, extra in CONFIGURATIONS.items():
                place = work / name.replace(" ", "-")
                (place / "data").mkdir(parents=True)
                env = service_env(db, secret, place / "data", extra)
                env.update(BENCH_USER=user.email, BENCH_PASSWORD=user.password)
                running[name] = _start(place, env, requests)
            return {name: _count(place, process) / requests for name, (place, process) in running.items()}
        finally:
            asyncio.run(database.drop(db))


def _start(place: Path, env: dict[str, str], requests: int) -> tuple[Path, subprocess.Popen[bytes]]:
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={place / 'callgrind.out'}",
        sys.executable, "-m", "bench.fair_use_instructions", "--serve", str(place), "--requests", str(requests),
    ]  # fmt: skip
    log = (place / "valgrind.log").open("wb")
    return place, subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)


def _count(place: Path, process: subprocess.Popen[bytes]) -> int:
    """Instructions between the child's "ready" and "done": callgrind counts only while switched on."""
    for signal, switch in (("ready", "on"), ("done", "off")):
        while not (place / signal).exists():
            if process.poll() is not None:
                raise RuntimeError(f"the process under callgrind ended early: see {place / 'valgrind.log'}")
            time.sleep(0.2)
        subprocess.run(["callgrind_control", "-i", switch, str(process.pid)], check=True, capture_output=True)
        (place / ("go" if signal == "ready" else "stop")).touch()
    process.wait(300)
    for line in (place / "callgrind.out").read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError("callgrind wrote no totals")


async def _serve(place: Path, requests: int) -> None:
    from application.access.admission_sync import AdmissionSync
    from crm.asgi import create_app

    async def paused(_: AdmissionSync) -> None:
        await asyncio.sleep(3600)

    AdmissionSync.run = paused  # type: ignore[method-assign]
    app = create_app()
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()

    async def lifespan_send(_: dict[str, Any]) -> None:
        started.set()

    await startup.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, startup.get, lifespan_send)
    )
    await started.wait()
    form = urlencode({"grant_type": "password", "username": os.environ["BENCH_USER"],
                      "password": os.environ["BENCH_PASSWORD"]})  # fmt: skip
    token = json.loads(await _call(app, "POST", "/api/v1/auth/token", [], form.encode()))["access_token"]
    headers = [(b"accept", b"application/json"), (b"authorization", f"Bearer {token}".encode())]
    paths = [f"/api/v1/customers/{seed.customer_id(index)}" for index in range(1, BASE_ROWS + 1)]
    for n in range(200):  # warm-up: caches, the pool's connections
        await _call(app, "GET", paths[n % len(paths)], headers)
    _signal(place, "ready", "go")
    for n in range(requests):
        await _call(app, "GET", paths[n % len(paths)], headers)
    _signal(place, "done", "stop")
    lifespan.cancel()
    os._exit(0)  # the pool and the hub need not close: the database is dropped


def _signal(place: Path, mine: str, theirs: str) -> None:
    (place / mine).touch()
    while not (place / theirs).exists():
        time.sleep(0.05)


async def _call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> bytes:
    sent: list[dict[str, Any]] = []
    received = False

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await asyncio.sleep(3600)  # the client stays: nothing more to read
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    content = [(b"content-type", b"application/x-www-form-urlencoded")] if body else []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"crm"), *content, *headers], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip
    await app(scope, receive, send)
    if sent[0]["status"] >= 300:
        raise RuntimeError(f"{method} {path}: {sent[0]['status']}")
    return b"".join(message.get("body", b"") for message in sent[1:])


if __name__ == "__main__":
    main()
