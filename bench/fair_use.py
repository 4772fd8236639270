"""The fair-use limiter's cost (issue 20): GET by id and the first page of the list, the service with the limiter
off (``CRM_RATE_LIMIT_REQUESTS=0``) and on with a quota too large to trigger, side by side.

```sh
make bench                                # runs this after the endpoint benchmark
.venv/bin/python -m bench.fair_use           # 6 interleaved runs of 5 s per endpoint and server (two of each)
.venv/bin/python -m bench.fair_use --quick   # 1 run of 3 s
```

Both configurations run at once on the same seeded database (``bench/database.py``, ``bench/seed.py``), each
``crm serve`` with one worker on the servers' core; runs alternate between them so that the machine's drift
touches both alike. It prints a Markdown table and writes it to ``docs/performance-fair-use.md``. Target: the
limiter on within 3 % of off in requests per second, for both endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlencode

from bench import database, processes, seed
from bench.fair_use_in_process import seconds_per_request
from bench.fair_use_instructions import instructions_per_request
from bench.harness import Session
from bench.load import LoadResult, Workload, run_python, run_wrk, wrk_available
from bench.options import BASE_ROWS
from bench.page_info import load_average
from bench.servers import free_port, service_env
from bench.workloads import seed_base

PAGE = Path("docs/performance-fair-use.md")
CONFIGURATIONS = {
    "limiter off": (("CRM_RATE_LIMIT_REQUESTS", "0"),),
    # 1,000,000 per 10 s: counted, headers sent, exchanged between replicas, never refused.
    "limiter on": (("CRM_RATE_LIMIT_REQUESTS", "1000000"), ("CRM_RATE_LIMIT_WINDOW_SECONDS", "10")),
}
# Two servers of each configuration, started A B B A: measured side by side, two identical servers differed by
# 6-9 % in req/s, the second started being the slower (an A/A run, limiter off in both); this cancels that.
SERVERS = (("limiter off", 1), ("limiter on", 1), ("limiter on", 2), ("limiter off", 2))
COPIES = 2
TARGET = 0.03
BUSY_LOAD = 0.5  # a 1-minute load average above this: others are using the machine
NOTES = "<!-- notes: written by hand, kept by bench/fair_use.py -->"
BUSY_NOTE = ": the machine was busy, so req/s are indicative only; run again on a quiet machine."


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s")
    parser.add_argument("--runs", type=int, help="interleaved runs per endpoint and configuration (default 6)")
    parser.add_argument("--seconds", type=float, help="length of each run (default 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-cores", default="0")
    parser.add_argument("--client-cores", default="1")
    parser.add_argument("--output", type=Path, default=PAGE)
    # make bench passes the same BENCH_ARGS to every script: what is not ours is left to the others.
    args, _ = parser.parse_known_args(argv)
    runs, seconds = args.runs or (1 if args.quick else 6), args.seconds or (3.0 if args.quick else 5.0)
    generate = run_wrk if wrk_available(install=True) else run_python
    results: dict[tuple[str, str], list[LoadResult]] = {}
    # The server's CPU time per request: on a shared machine a steadier measure of the limiter's cost than req/s.
    cpu_per_request: dict[tuple[str, str], list[float]] = {}
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="crm-bench-fair-use-") as folder, database.server() as server_url:
        work = Path(folder)
        db = asyncio.run(database.create(server_url))
        servers: dict[tuple[str, int], processes.Server] = {}
        try:
            user = asyncio.run(seed_base(db.url))
            form = urlencode({"grant_type": "password", "username": user.email, "password": user.password})
            secret = secrets.token_urlsafe(48)
            for name, copy in SERVERS:
                port = free_port()
                command = processes.pinned(processes.service_command(port), args.server_cores)
                label = f"{name.replace(' ', '-')}-{copy}"
                env = service_env(db, secret, work / label, CONFIGURATIONS[name])
                servers[name, copy] = processes.start(label, command, env, port, work, "/health/ready")
            bearer = Session(servers["limiter off", 1].base_url, form).bearer()
            reads = tuple(f"/api/v1/customers/{seed.customer_id(index)}" for index in range(1, BASE_ROWS + 1))
            workloads = {"GET by id": reads, "list (first page)": ("/api/v1/customers?limit=20",)}
            for endpoint, paths in workloads.items():
                workload = Workload("paths", paths, bearer, connections=args.connections)
                for server in servers.values():  # warm-up, not counted
                    generate(server.base_url, workload, 1.0, args.client_cores, work)
                for run in range(runs):
                    order = list(servers.items()) if run % 2 == 0 else list(reversed(servers.items()))
                    for (name, copy), server in order:
                        print(f"== {endpoint}, {name} ({copy}), run {run + 1}/{runs}", file=sys.stderr)
                        cpu_before = processes.cpu_seconds(server.pids)
                        result = generate(server.base_url, workload, seconds, args.client_cores, work)
                        cpu = processes.cpu_seconds(server.pids) - cpu_before
                        results.setdefault((endpoint, name), []).append(result)
                        cpu_per_request.setdefault((endpoint, name), []).append(cpu / max(result.requests, 1))
        finally:
            for server in servers.values():
                server.stop()
            asyncio.run(database.drop(db))
    loads = (load_before, load_average())
    failed = {key: sum(result.non_2xx for result in runs) for key, runs in results.items()}
    if any(failed.values()):  # an error answers faster than a page: such figures would flatter the service
        sys.exit(f"bench.fair_use: answers other than 2xx, nothing written: {failed}")
    text = _page(results, cpu_per_request, loads, runs, seconds, generate is run_wrk)
    text += _own_cost(statistics.median(cpu_per_request["GET by id", "limiter off"]))
    text += _instructions()
    print(text)
    args.output.write_text(text + _notes(args.output))
    print(f"Written to {args.output}", file=sys.stderr)


def _page(
    results: dict[tuple[str, str], list[LoadResult]],
    cpu_per_request: dict[tuple[str, str], list[float]],
    loads: tuple[str, str],
    runs: int,
    seconds: float,
    wrk: bool,
) -> str:
    lines = [
        "# The fair-use limiter's cost",
        "",
        "Written by `.venv/bin/python -m bench.fair_use` (part of `make bench`); do not edit by hand. The service with"
        " the limiter off (`CRM_RATE_LIMIT_REQUESTS=0`) and on with a quota it never reaches (1,000,000 per 10 s),"
        f" side by side on one database, two servers of each started off, on, on, off: {runs} interleaved run(s)"
        f" of {seconds:g} s per endpoint and server"
        f" ({'wrk' if wrk else 'the Python load generator'}, one signed-in user); req/s, latencies and CPU are"
        " medians, and each ratio on / off is the median over the runs of the on servers' total to the off servers'"
        " (pairs' range: the lowest and highest of those, the machine's noise). Target: on within"
        f" {TARGET:.0%} of off in requests per second. The server's CPU time per request (user + system, all its"
        " threads) is the steadier measure when others share the machine: its ratio is the cost as the server pays"
        f" it. Load average (1 / 5 / 15 min) at the start {loads[0]}, at the end {loads[1]}"
        f"{BUSY_NOTE if float(loads[0].split(' / ')[0]) > BUSY_LOAD else '.'}",
        "",
        "| endpoint | configuration | req/s | p50 ms | p99 ms | non-2xx | req/s on / off | pairs' range"
        " | CPU µs/request | CPU on / off | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for endpoint in dict.fromkeys(endpoint for endpoint, _ in results):
        offs = results[endpoint, "limiter off"]
        cpu_offs = cpu_per_request[endpoint, "limiter off"]
        for name in CONFIGURATIONS:
            measured = results[endpoint, name]
            rps = statistics.median(result.rps for result in measured)
            p50 = statistics.median(result.p50_ms for result in measured)
            p99 = statistics.median(result.p99_ms for result in measured)
            errors = sum(result.non_2xx for result in measured)
            cpu = statistics.median(cpu_per_request[endpoint, name])
            # Each run against the same run of the other configuration: the machine's drift cancels out.
            rps_on, rps_off = _per_run(r.rps for r in measured), _per_run(r.rps for r in offs)
            ratios = [on / off for on, off in zip(rps_on, rps_off, strict=True)]
            cpu_on, cpu_off = _per_run(cpu_per_request[endpoint, name]), _per_run(cpu_offs)
            cpu_ratios = [on / off for on, off in zip(cpu_on, cpu_off, strict=True)]
            ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
            verdict = spread = ""
            if name != "limiter off":
                verdict = f"req/s {'met' if ratio >= 1 - TARGET else 'missed'}, CPU "
                verdict += "met" if cpu_ratio <= 1 + TARGET else "missed"
                spread = f"{min(ratios):.2f} to {max(ratios):.2f}"
            lines.append(
                f"| {endpoint} | {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {errors} | {ratio:.3f} | {spread}"
                f" | {cpu * 1e6:,.0f} | {cpu_ratio:.3f} | {verdict} |"
            )
    return "\n".join(lines) + "\n"


def _per_run(values: Iterable[float]) -> list[float]:
    """The copies' figures of each run added up (each run measures every copy once)."""
    figures = list(values)
    return [sum(figures[start : start + COPIES]) for start in range(0, len(figures), COPIES)]


def _own_cost(request_cpu: float) -> str:
    own = seconds_per_request()
    added = own["limiter on"] - own["limiter off"]
    return (
        "\nThe limiter's own code (`bench/fair_use_in_process.py`: `FairUse.count` on one scope, best of 7 runs):"
        f" {own['limiter off'] * 1e6:.1f} µs off, {own['limiter on'] * 1e6:.1f} µs on, so {added * 1e6:.1f} µs"
        f" added per request: {added / request_cpu:.1%} of GET by id's {request_cpu * 1e6:,.0f} µs of server CPU"
        " above.\n"
    )


def _instructions() -> str:
    """The whole request's cost in CPU instructions (``bench/fair_use_instructions.py``), when valgrind is here."""
    if shutil.which("valgrind") is None:
        return "\nInstructions per request: not counted (no valgrind here; `apt-get install valgrind`).\n"
    counted = instructions_per_request(300)
    off, on = counted["limiter off"], counted["limiter on"]
    return (
        "\nInstructions per GET by id (`bench/fair_use_instructions.py`: the app in-process under callgrind, 300"
        f" requests on PostgreSQL, a count the machine's load does not move): {off:,.0f} off, {on:,.0f} on, so"
        f" {on - off:,.0f} added ({on / off - 1:+.1%} of the Python side; granian and the kernel are not counted).\n"
    )


def _notes(page: Path) -> str:
    """What is written by hand below ``NOTES`` in the page: kept when the figures above are written again."""
    text = page.read_text() if page.exists() else ""
    return "\n" + NOTES + text.split(NOTES, 1)[1] if NOTES in text else ""


if __name__ == "__main__":
    main()
