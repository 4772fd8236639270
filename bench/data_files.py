"""Export and import at scale (issue 14): a million customers out, 50,000 in, timed, with the worker's memory.

```sh
make bench                                  # runs this after the endpoint benchmark
.venv/bin/python -m bench.data_files           # alone: 1,000,000 rows exported, 50,000 imported
.venv/bin/python -m bench.data_files --quick   # 100,000 exported, 50,000 imported: the harness end to end
```

It creates a throw-away database (``bench/database.py``), seeds it with ``generate_series``
(``bench/seed.py``), starts ``crm serve`` with one worker, and then, over HTTP as a client would:

- streams ``GET /api/v1/customers/export`` (CSV, then NDJSON) and counts rows and bytes: rows per second
  from the first request byte to the last response byte; the worker's peak resident memory (VmHWM, reset
  before each run) shows whether the export holds the result in memory;
- posts a 50,000-row CSV to ``POST /api/v1/customers/import`` (``mode=create``), then the same ids with
  changed e-mails (``mode=upsert``): the seconds each takes, answer included; then once more with a webhook
  subscribed to every event, so that each changed row also writes its event to the outbox.

It prints a Markdown table and writes it to ``docs/performance-data-files.md``. Targets from issue 14:
export over 50,000 rows/s with the worker under 150 MB; a 50,000-row import under 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench import database, processes, seed
from bench.servers import free_port

PAGE = Path("docs/performance-data-files.md")
IMPORT_ROWS = 50_000
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Measured:
    what: str
    rows: int
    seconds: float
    rss_before_mib: float
    peak_rss_mib: float
    note: str = ""

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


async def _seed(url: str, rows: int) -> seed.BenchUser:
    connection = await asyncpg.connect(url)
    try:
        user = await seed.create_user(connection)
        await seed.add_customers(connection, user, 1, rows)
        return user
    finally:
        await connection.close()


def _env(db: database.Database, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "GRANIAN_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        CRM_ENV="test",
        DATABASE_URL=db.url,
        SECRET_KEY=secrets.token_urlsafe(48),
        CRM_LOG_LEVEL="WARNING",
        CRM_DATA_DIR=str(data_dir),
        CRM_ACCESS_TOKEN_MINUTES="60",
    )
    return env


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _export(client: httpx.Client, server: processes.Server, file_format: str) -> Measured:
    worker = server.worker_pid
    processes.reset_peak_rss([worker])
    before = _rss_mib(worker)
    rows = size = 0
    started = time.perf_counter()
    with client.stream("GET", "/api/v1/customers/export", params={"format": file_format}) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(1024 * 1024):
            rows += chunk.count(b"\n")
            size += len(chunk)
    seconds = time.perf_counter() - started
    if file_format == "csv":
        rows -= 1  # the header row
    peak = processes.peak_rss_kib([worker]) / 1024
    return Measured(f"export {file_format}", rows, seconds, before, peak, f"{size / MIB:.0f} MiB")


def _import_file(email_domain: str) -> bytes:
    lines = ["id,name,surname,email,phone,notes"]
    lines += [
        f"I{n:07},Imported,Customer {n},imported.{n}@{email_domain},+1 555 {n:07},Came from the spreadsheet"
        for n in range(IMPORT_ROWS)
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def _import(client: httpx.Client, server: processes.Server, mode: str, email_domain: str) -> Measured:
    worker = server.worker_pid
    processes.reset_peak_rss([worker])
    before = _rss_mib(worker)
    body = _import_file(email_domain)
    started = time.perf_counter()
    response = client.post(
        "/api/v1/customers/import",
        params={"mode": mode},
        content=body,
        headers={"Content-Type": "text/csv"},
        timeout=300,
    )
    seconds = time.perf_counter() - started
    response.raise_for_status()
    report = response.json()
    counted = report["created"] + report["updated"]
    if report["errors"] or counted != IMPORT_ROWS:
        raise RuntimeError(f"the import did not apply every row: {report}")
    peak = processes.peak_rss_kib([worker]) / 1024
    return Measured(f"import {mode}", IMPORT_ROWS, seconds, before, peak, f"{len(body) / MIB:.1f} MiB file")


def _page(results: list[Measured], seeded: int, db: database.Database) -> str:
    by_name = {result.what: result for result in results}
    export = by_name["export csv"]
    worst_import = max(by_name["import create"].seconds, by_name["import upsert"].seconds)
    peak = max(result.peak_rss_mib for result in results if result.what.startswith("export"))

    def verdict(passed: bool) -> str:
        return "met" if passed else "**missed**"

    export_verdict = verdict(export.rows_per_second > 50_000)

    table = "\n".join(
        f"| {r.what} | {r.rows:,} | {r.seconds:.2f} | {r.rows_per_second:,.0f} | {r.rss_before_mib:.0f}"
        f" | {r.peak_rss_mib:.0f} | {r.note} |"
        for r in results
    )
    return f"""# Export and import at scale

Measured by `make bench` (`bench/data_files.py`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {platform.node()},
{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {db.version}; `crm serve` with one worker,
{seeded:,} customers seeded. Over HTTP on loopback, the client (httpx) in the same machine. Load average at
the end: {" ".join(f"{load:.1f}" for load in os.getloadavg())} (the machine is shared; above 2 the figures are low).

| run | rows | seconds | rows/s | worker RSS before (MiB) | worker peak RSS (MiB) | note |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
{table}

| target (issue 14) | result | verdict |
| --- | --- | --- |
| export streams over 50,000 rows/s | {export.rows_per_second:,.0f} rows/s (CSV) | {export_verdict} |
| worker under 150 MB during the export | {peak:.0f} MiB peak | {verdict(peak * MIB < 150_000_000)} |
| 50,000-row import under 30 s | {worst_import:.1f} s (slower of create and upsert) | {verdict(worst_import < 30)} |

The export reads keyset batches of 2,500 (one short read each, no transaction held open) and streams each
batch as it is written, so memory does not grow with the number of rows. The import validates every row
with the domain's rules in the worker, then COPYs into a staging table and moves the rows with one
`INSERT … SELECT` or `UPDATE … FROM`; the history is COPYed too. With a webhook on every event, migration
0004's trigger runs once per COPYed history row and writes its event and delivery in the import's transaction
(the last row); without one it returns at once. Figures are for one run on a shared machine: compare within a run.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="export 100,000 rows instead of 1,000,000")
    parser.add_argument("--rows", type=int, default=None, help="customers to seed and export")
    parser.add_argument("--no-page", action="store_true", help=f"print only; do not write {PAGE}")
    options, _ = parser.parse_known_args(argv)
    rows = options.rows or (100_000 if options.quick else 1_000_000)
    with database.server() as server_url:
        db = asyncio.run(database.create(server_url))
        try:
            user = asyncio.run(_seed(db.url, rows))
            with tempfile.TemporaryDirectory(prefix="crm-bench-files-") as work:
                port = free_port()
                service = processes.start(
                    "service",
                    processes.service_command(port),
                    _env(db, Path(work) / "data"),
                    port,
                    Path(work),
                    "/health/ready",
                )
                try:
                    results = _measure(service, user)
                finally:
                    service.stop()
        finally:
            asyncio.run(database.drop(db))
    page = _page(results, rows, db)
    print(page)
    if not options.no_page:
        PAGE.write_text(page)


def _measure(service: processes.Server, user: seed.BenchUser) -> list[Measured]:
    with httpx.Client(base_url=service.base_url, timeout=600) as client:
        token = client.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": user.email, "password": user.password}
        )
        token.raise_for_status()
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return [
            _export(client, service, "csv"),
            _export(client, service, "ndjson"),
            _import(client, service, "create", "example.com"),
            _import(client, service, "upsert", "example.org"),
            _import_with_a_webhook(client, service),
        ]


def _import_with_a_webhook(client: httpx.Client, server: processes.Server) -> Measured:
    """The upsert again with a webhook on every event: the outbox trigger writes an event and a delivery per row."""
    subscribed = client.post("/api/v1/webhooks", json={"url": "https://hooks.example.com/crm", "events": ["*"]})
    subscribed.raise_for_status()
    measured = _import(client, server, "upsert", "example.net")
    return Measured(
        "import upsert, webhook on *",
        measured.rows,
        measured.seconds,
        measured.rss_before_mib,
        measured.peak_rss_mib,
        measured.note + ", 50,000 events",
    )


if __name__ == "__main__":
    main()
