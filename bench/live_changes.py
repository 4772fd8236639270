"""Live changes under load: 1,000 open streams on one worker, one customer change every 10 ms.

Runs the service (``crm serve``, one worker) on a throw-away database, opens the streams with 200 API keys (the
contract allows 5 streams per caller), then creates a customer every 10 ms for ``--seconds`` and reports:

- the worker's resident memory before the streams, with them open, and the difference (what the streams cost);
- the worker's CPU time per delivered event (CPU seconds during the changes / events delivered to all streams);
- the time from a change to its arrival on a stream, from the event's own ``timestamp`` (taken before the commit, so
  slightly more than commit → delivery), measured on 50 probe streams: median, p99 and worst.

The streams are read by a separate process (asyncio, one connection each) so that reading does not compete with
the writer's clock. Figures go to stdout and into their own section of docs/performance.md (between markers, so
that ``bench.run`` writing the rest of the page leaves it, and this script updates only it).

    python -m bench.live_changes [--streams 1000] [--seconds 10] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import database, processes
from bench.live_change_readers import read_streams
from bench.page_info import write_section
from bench.servers import free_port, service_env

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"
START, END = "<!-- live-changes -->", "<!-- /live-changes -->"
ADMIN = ("bench-admin@example.com", "a long bench passphrase 2026")
STREAMS_PER_KEY = 5


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _keys(base_url: str, count: int) -> tuple[str, list[str]]:
    """The admin's access token, and ``count`` API keys that may read customers."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        answer = client.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": ADMIN[0], "password": ADMIN[1]}
        )
        answer.raise_for_status()
        token = answer.json()["access_token"]
        keys = []
        for n in range(count):
            made = client.post(
                "/api/v1/api-keys",
                json={"name": f"Bench Reader {n}", "scopes": ["customers:read"]},
                headers={"Authorization": f"Bearer {token}"},
            )
            made.raise_for_status()
            keys.append(made.json()["key"])
    return token, keys


async def _write_changes(base_url: str, token: str, seconds: float) -> tuple[int, list[float]]:
    """Create a customer every 10 ms, on schedule (each request sent at its time, however long others take); the
    creates answered 201, and how long each create took (sent to answered, or to the client giving up)."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers, limits=limits) as client:
        took: list[float] = []

        async def create(n: int) -> bool:
            body = {"id": f"B{n}", "name": "Ada", "surname": "Lovelace"}
            sent_at = time.monotonic()
            try:
                answer = await client.post("/api/v1/customers", json=body)
            except httpx.HTTPError:
                return False  # counted as not made: the figures show it
            finally:
                took.append(time.monotonic() - sent_at)
            return answer.status_code == 201

        started, sent = time.monotonic(), []
        for n in range(int(seconds * 100)):
            await asyncio.sleep(max(0.0, started + n * 0.01 - time.monotonic()))
            sent.append(asyncio.create_task(create(n)))
        made = sum(await asyncio.gather(*sent))
        return made, sorted(took)


def _run(streams: int, seconds: float) -> dict[str, Any]:
    with database.server() as server_url, tempfile.TemporaryDirectory(prefix="crm-bench-live-") as folder:
        db = asyncio.run(database.create(server_url))
        service = None
        try:
            port = free_port()
            extra = (
                ("CRM_LIVE_CHANGES_MAX_STREAMS", str(streams * 2)),
                ("CRM_BOOTSTRAP_ADMIN_EMAIL", ADMIN[0]),
                ("CRM_BOOTSTRAP_ADMIN_PASSWORD", ADMIN[1]),
                # Fair use (contract 1.2) would throttle the benchmark's own writer and key set-up.
                ("CRM_RATE_LIMIT_REQUESTS", "0"),
            )
            env = service_env(db, secrets.token_urlsafe(48), Path(folder) / "data", extra)
            service = processes.start(
                "service", processes.service_command(port), env, port, Path(folder), "/health/ready"
            )
            token, keys = _keys(service.base_url, -(-streams // STREAMS_PER_KEY))
            worker = service.worker_pid
            before = _rss_kib(worker)
            context = multiprocessing.get_context("spawn")
            ready, stop, results = context.Event(), context.Event(), context.Queue()
            credentials = [keys[n // STREAMS_PER_KEY] for n in range(streams)]
            reader = context.Process(target=read_streams, args=(service.base_url, credentials, ready, stop, results))
            reader.start()
            if not ready.wait(120):
                raise RuntimeError("the streams did not open")
            time.sleep(1)
            with_streams = _rss_kib(worker)
            cpu_before = processes.cpu_seconds([worker])
            writing = time.monotonic()
            created, took = asyncio.run(_write_changes(service.base_url, token, seconds))
            writing = time.monotonic() - writing
            time.sleep(2)  # the last events on their way
            stop.set()
            cpu = processes.cpu_seconds([worker]) - cpu_before
            peak = _rss_kib(worker)
            delivered, latencies, opened = results.get(timeout=120)
            reader.join(30)
        finally:
            if service is not None:
                service.stop()
            asyncio.run(database.drop(db))
    latencies.sort()
    return {
        "streams": opened,
        "changes": created,
        "writing_seconds": writing,
        # The writing ends with its slowest create: one that the client gave up on (30 s) stretches it alone.
        "create_median_ms": statistics.median(took) * 1000,
        "create_p99_ms": took[int(len(took) * 0.99) - 1] * 1000,
        "create_max_ms": took[-1] * 1000,
        "delivered": delivered,
        "expected": created * opened,
        "rss_before_mib": before / 1024,
        "rss_streams_mib": with_streams / 1024,
        "rss_end_mib": peak / 1024,
        "streams_mib": (with_streams - before) / 1024,
        "cpu_seconds": cpu,
        "cpu_us_per_event": cpu / max(delivered, 1) * 1e6,
        "latency_median_ms": statistics.median(latencies) * 1000,
        "latency_p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "latency_max_ms": latencies[-1] * 1000,
        "latency_samples": len(latencies),
    }


def _section(figures: dict[str, Any], seconds: float) -> str:
    f = figures
    return f"""{START}
## Live changes: {f["streams"]:,} streams on one worker

`python -m bench.live_changes` (part of `make bench`): {f["streams"]:,} open `GET /api/v1/customers/changes` streams on
one worker (`crm serve`, an API key for each 5 streams), one customer created every 10 ms for {seconds:g} s.

| Figure | Value | Aim |
| --- | --- | --- |
| Changes made / events delivered (all streams) | {f["changes"]:,} / {f["delivered"]:,} of {f["expected"]:,} | all |
| One create (POST, sent → answered): median / p99 / worst | {f["create_median_ms"]:.0f} / {f["create_p99_ms"]:.0f} \
/ {f["create_max_ms"]:.0f} ms | |
| Writing took (until the last create answered) | {f["writing_seconds"]:.1f} s | {seconds:g} s |
| Worker memory before the streams | {f["rss_before_mib"]:.1f} MiB | |
| Worker memory with the streams open | {f["rss_streams_mib"]:.1f} MiB (+{f["streams_mib"]:.1f} MiB) | < 50 MB more |
| Worker memory at the end | {f["rss_end_mib"]:.1f} MiB | |
| Worker CPU during the changes | {f["cpu_seconds"]:.1f} s | |
| CPU per delivered event | {f["cpu_us_per_event"]:.1f} µs | |
| Change → delivery, median | {f["latency_median_ms"]:.0f} ms | |
| Change → delivery, p99 | {f["latency_p99_ms"]:.0f} ms | < 200 ms |
| Change → delivery, worst | {f["latency_max_ms"]:.0f} ms | < 1 s (contract) |

Latency is measured on {f["latency_samples"]:,} deliveries to 50 probe streams, from the event's `timestamp` (set
before the commit) to its arrival; the readers run in a process of their own on the same machine.
{END}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="200 streams for 3 s (what make bench BENCH_ARGS=--quick)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/performance.md")
    options, _ = parser.parse_known_args()
    streams, seconds = (200, 3.0) if options.quick else (options.streams, options.seconds)
    figures = _run(streams, seconds)
    print(json.dumps(figures, indent=2))
    section = _section(figures, seconds)
    print(section)
    if not options.no_write:
        write_section(PAGE, START, END, section)


if __name__ == "__main__":
    main()
