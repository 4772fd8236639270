"""What the page says about the machine and the method."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench import database
from bench.options import BASE_ROWS, ROOT, SWEEP_CONNECTIONS, Options

LIBRARIES = ("granian", "litestar", "sqlalchemy", "asyncpg", "msgspec", "pyjwt")


def machine(db: database.Database, options: Options, generator: str) -> dict[str, str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    revision = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "Revision": revision or "unknown",
        "CPU": f"{cpu}, {os.cpu_count()} cores, {int(memory) // 1024:,} MiB RAM",
        "System": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": db.version,
        "Libraries": ", ".join(f"{name} {version(name)}" for name in LIBRARIES),
        "Load generator": generator,
        "Cores": f"servers on {options.server_cores}; PostgreSQL and load generator on {options.client_cores}",
        "Load average at start": load_average(),
    }


def load_average() -> str:
    """1, 5 and 15 minutes: anything well above 0 before the start means others were using the machine."""
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def method(options: Options, generator: str) -> str:
    sweep = ", ".join(str(count) for count in SWEEP_CONNECTIONS)
    variants = (
        "; ".join(
            f"{v.label} ({', '.join(f'{n}={value}' for n, value in v.env)}) on {', '.join(sorted(v.endpoints))}"
            for v in options.variants
        )
        or "none"
    )
    return f"""- One command (`make bench`) does everything on one machine: creates a throw-away database
  `crm_bench_<hex>` (on `BENCH_DATABASE_URL`, else PostgreSQL on 127.0.0.1:5432, else an embedded one),
  migrates it with the project's migrations, seeds one user and {BASE_ROWS:,} customers with SQL
  (`generate_series`; keys and search text checked against `domain.values.search_key`), and drops it at
  the end.
- Three apps, each with one worker and a pool of 10 connections: the service as `crm serve --workers 1`
  in its default configuration (the access log on at level INFO, JSON lines to a file, its default pool; the
  fair-use limits on, with quotas this load never reaches; CRM_ENV=test); the bare reference (`bench/reference_app.py`:
  bare ASGI, asyncpg, msgspec, the same JWT checks with pyjwt, one SQL statement per request, no session
  look-up); and plain Litestar (`bench/litestar_app.py`: the same token check, SQL and JSON as Litestar
  handlers, no dependency injection, no middleware), both under `granian --interface asgi --workers 1`.
  All pinned to core(s) {options.server_cores}; PostgreSQL (its main process and backends) and the load
  generator to core(s) {options.client_cores}, with `taskset`.
- Variants: {variants}. Each is one more service process, measured interleaved with the others in the same
  runs.
- The access line's cost: `bench/access_log_cost.py` writes 200,000 lines through the service's `AccessLog`
  and `LogWriter` into a file and divides the CPU time of both threads by the lines; the target compares it
  with the service's server CPU per GET by id.
- Load: {generator}, {options.connections} connections, closed loop, authenticated with one bearer token.
  Per endpoint: {options.warmup:g} s warm-up of each app, then {options.runs} run(s) of {options.seconds:g} s
  per app, interleaved (the order rotating every run), all on the same database.
- Endpoints: random ids of the {BASE_ROWS:,} seeded customers; the first page of 20 (newest first, the
  default order); searches for 15 terms (names, fragments, an e-mail part, an id prefix, one without
  match); creation of new customers (unique ids); merge patches of the notes of random customers. Then
  the table grows to {options.deep_rows:,} rows (secondary indexes rebuilt, VACUUM ANALYZE) for the first
  page, pages 90-99 % deep through cursors the service would have issued, and the search again. Last, the
  token endpoint (password grant: argon2id, 64 MiB, t=3), service only, with 4 connections.
- Writes: the references do the same work as the service (`bench/reference_queries.py`): the customer row
  and a history row with the changed fields, in one statement (atomic by itself); the update locks the row
  and bumps its version.
- The pool check (after the 10,000-row endpoints): GET by id on the service at {sweep} connections, one
  run of {options.seconds:g} s each after a warm-up at that count, with the sessions opened in the database
  (`pg_stat_database.sessions`, read over a connection opened before) and the service's counter of
  connections opened by its pool.
- Before measuring, the references' answers are compared with the service's (same JSON) for a read, a
  page, a search and a deep page; any difference is listed under the notes.
- Targets from issue 23: GET by id >= 0.6x the bare reference and >= 0.9x plain Litestar, the first page
  >= 0.6x and >= 0.85x, the access line under 3 % of a GET's CPU, with the access log on. From issue 13:
  create and update >= 0.6x the same-work reference, no session opened after warm-up at 16, 32 and 64
  clients, GET by id at 16 connections >= 0.95x at 8, the worker under 150 MiB resident on customer
  endpoints, p99 of GET by id under 40 ms at 32 connections; kept from issue 6: search >= 0.5x, a page a
  million rows deep within 1.5x the first page's p50 latency, signing in under 200 MiB, no errors and no
  5xx. The figures are only comparable within one run on one machine.
"""


def write_section(page: Path, start: str, end: str, section: str) -> None:
    """Put ``section`` (which begins with ``start`` and ends with ``end``) where the page has those markers, else at
    its end: one bench's part of a page, rewritten without touching the rest."""
    text = page.read_text() if page.exists() else "# Performance\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section.strip() + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    page.write_text(text)
