"""``make bench``: the service against a bare asyncpg reference, side by side, on one machine.

    uv run python -m bench.run            # 3 runs of 10 s per endpoint and app (about 15 minutes)
    uv run python -m bench.run --quick    # 1 run of 3 s: proves the harness, figures are rough

See ``--help`` for the knobs and the Method section this writes into docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import httpx
import jwt

from bench import database, processes, report, seed
from bench.load import LoadResult, Workload, run_python, run_wrk, wrk_available
from bench.report import REFERENCE, SERVICE, Endpoint, RunRecord

logger = logging.getLogger("bench")
ROOT = Path(__file__).resolve().parents[1]
BASE_ROWS = 10_000
BUSY_LOAD = 0.5  # a 1-minute load average above this at the start: others are using the machine
LIBRARIES = ("granian", "litestar", "sqlalchemy", "asyncpg", "msgspec", "pyjwt")
Generator = Callable[[str, Workload, float, str | None, Path], LoadResult]


@dataclass(frozen=True, slots=True)
class Options:
    runs: int
    seconds: float
    warmup: float
    connections: int
    deep_rows: int
    generator: str
    server_cores: str
    client_cores: str
    output: Path | None
    only: frozenset[str] | None
    notes: tuple[str, ...]
    profile_dir: Path | None
    keep_database: bool
    service_env: tuple[tuple[str, str], ...]
    service_server: str


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s per endpoint and app, 1 s warm-up")
    parser.add_argument("--runs", type=int, help="interleaved runs per endpoint and app (default 3)")
    parser.add_argument("--seconds", type=float, help="length of each run (default 10)")
    parser.add_argument("--warmup", type=float, help="unrecorded warm-up before each endpoint (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--deep-rows", type=int, default=1_000_000, help="rows for the page-depth check")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--server-cores", default="0", help="cores of the two servers (taskset -c)")
    parser.add_argument("--client-cores", default="1", help="cores of PostgreSQL and the load generator")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--only", help="comma-separated endpoint keys, e.g. get,list (see the table)")
    parser.add_argument("--note", action="append", default=[], help="a line for the page's notes")
    parser.add_argument(
        "--profile-dir",
        type=Path,
        help="after each endpoint, profile one extra service run with py-spy (on PATH) into this folder",
    )
    parser.add_argument(
        "--service-server",
        choices=("crm", "granian", "uvicorn"),
        default="crm",
        help="crm: `crm serve` as in production (default); granian or uvicorn: that server on crm.asgi:create_app",
    )
    parser.add_argument("--keep-database", action="store_true", help="leave the database for a look afterwards")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the service, e.g. CRM_LOG_LEVEL=INFO (production's level) or CRM_DB_POOL_SIZE=20",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    return Options(
        runs=args.runs or (1 if quick else 3),
        seconds=args.seconds or (3.0 if quick else 10.0),
        warmup=args.warmup if args.warmup is not None else (1.0 if quick else 2.0),
        connections=args.connections,
        deep_rows=args.deep_rows,
        generator=args.generator,
        server_cores=args.server_cores,
        client_cores=args.client_cores,
        output=None if args.no_write else args.output,
        only=frozenset(args.only.split(",")) if args.only else None,
        notes=tuple(args.note),
        profile_dir=args.profile_dir,
        keep_database=args.keep_database,
        service_server=args.service_server,
        service_env=tuple((name, value) for name, _, value in (item.partition("=") for item in args.service_env)),
    )


def endpoints(deep_rows: int) -> tuple[list[Endpoint], list[Endpoint], Endpoint]:
    """The endpoints on 10,000 customers, those on ``deep_rows`` customers, and the token endpoint."""
    rows = f"{deep_rows:,}"
    base = [
        Endpoint("get", "GET /customers/{id}, random of 10,000", 0.6),
        Endpoint("list", "GET /customers?limit=20, first page of 10,000", 0.5),
        Endpoint("search", "GET /customers?q=..., 10,000 rows", 0.5),
        Endpoint("create", "POST /customers", 0.4),
        Endpoint("update", "PATCH /customers/{id}", 0.4),
    ]
    deep = [
        Endpoint("list_deep", f"GET /customers?limit=20, first page of {rows}"),
        Endpoint("page_deep", f"GET /customers?cursor=..., 90-99% deep in {rows}"),
        Endpoint("search_deep", f"GET /customers?q=..., {rows} rows"),
    ]
    return base, deep, Endpoint("token", "POST /auth/token, password grant (argon2id)", with_reference=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cores(spec: str) -> set[int]:
    cores: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        cores.update(range(int(first), int(last or first) + 1))
    return cores


@dataclass
class Session:
    """Signs in through the service; signs in again before the 60-minute access token runs out."""

    base_url: str
    form: str
    token: str = ""
    issued: float = 0.0

    def bearer(self) -> str:
        if time.monotonic() - self.issued > 600:
            response = httpx.post(
                self.base_url + "/api/v1/auth/token",
                content=self.form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
            response.raise_for_status()
            self.token, self.issued = response.json()["access_token"], time.monotonic()
        return self.token


@dataclass
class Bench:
    options: Options
    generate: Generator
    work_dir: Path
    servers: dict[str, processes.Server] = field(default_factory=dict)
    records: list[RunRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def measure(self, endpoint: Endpoint, workload: Callable[[str, int], Workload]) -> None:
        """Warm up, then ``runs`` runs of each app, interleaved (S R, R S, S R, …) so that drift in the
        machine's speed falls on both alike."""
        options = self.options
        if options.only is not None and endpoint.key not in options.only:
            return
        apps = [SERVICE, REFERENCE] if endpoint.with_reference else [SERVICE]
        print(f"== {endpoint.key}: {endpoint.title}", file=sys.stderr)
        for app in apps:
            if options.warmup > 0:
                self.generate(self.servers[app].base_url, workload(app, -1), options.warmup, options.client_cores,
                              self.work_dir)  # fmt: skip
        for run in range(options.runs):
            for app in apps if run % 2 == 0 else reversed(apps):
                server = self.servers[app]
                pids = server.pids
                processes.reset_peak_rss(pids)
                cpu_before = processes.cpu_seconds(pids)
                load = self.generate(server.base_url, workload(app, run), options.seconds, options.client_cores,
                                     self.work_dir)  # fmt: skip
                cpu = processes.cpu_seconds(pids) - cpu_before
                record = RunRecord(endpoint.key, app, run, load, cpu, processes.peak_rss_kib(pids))
                self.records.append(record)
                print(
                    f"   {app:9} run {run + 1}: {load.rps:8,.0f} req/s  p50 {load.p50_ms:6.1f} ms  "
                    f"p99 {load.p99_ms:6.1f} ms  cpu {1000 * cpu / max(load.requests, 1):.2f} ms/req  "
                    f"rss {record.peak_rss_kib / 1024:.0f} MiB  status {load.status}  "
                    f"errors {load.socket_errors + load.timeouts}",
                    file=sys.stderr,
                )
        if options.profile_dir is not None:
            self._profile(endpoint, workload)

    def _profile(self, endpoint: Endpoint, workload: Callable[[str, int], Workload]) -> None:
        """One extra, unrecorded service run with py-spy sampling the worker (collapsed stacks)."""
        assert self.options.profile_dir is not None
        self.options.profile_dir.mkdir(parents=True, exist_ok=True)
        output = self.options.profile_dir / f"{endpoint.key}.txt"
        server = self.servers[SERVICE]
        seconds = self.options.seconds
        command = processes.pinned(
            ["py-spy", "record", "--pid", str(server.worker_pid), "--duration", str(round(seconds)), "--rate", "250",
             "--format", "raw", "--nonblocking", "--output", str(output)],
            self.options.client_cores,
        )  # fmt: skip
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as spy:
            self.generate(server.base_url, workload(SERVICE, 99), seconds, self.options.client_cores, self.work_dir)
            spy.wait(30)
        print(f"   py-spy profile (collapsed stacks): {output}", file=sys.stderr)

    def check_parity(self, path: str, bearer: str) -> None:
        """The reference answers what the service answers; otherwise the comparison is not fair."""
        headers = {"Authorization": f"Bearer {bearer}"}
        answers = {app: httpx.get(server.base_url + path, headers=headers, timeout=30)
                   for app, server in self.servers.items()}  # fmt: skip
        service, reference = answers[SERVICE], answers[REFERENCE]
        if service.status_code != 200 or reference.status_code != 200:
            self.notes.append(f"Parity: `{path}` answered {service.status_code} (service), "
                              f"{reference.status_code} (reference).")  # fmt: skip
        elif service.json() != reference.json():
            self.notes.append(f"Parity: `{path}`: the reference's body differs from the service's.")


def _machine(db: database.Database, options: Options, generator: str) -> dict[str, str]:
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
        "Load average at start": _load_average(),
    }


def _load_average() -> str:
    """1, 5 and 15 minutes: anything well above 0 before the start means others were using the machine."""
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def _method(options: Options, generator: str) -> str:
    return f"""- One command (`make bench`) does everything on one machine: creates a throw-away database
  `crm_bench_<hex>` (on `BENCH_DATABASE_URL`, else PostgreSQL on 127.0.0.1:5432, else an embedded one),
  migrates it with the project's migrations, seeds one user and {BASE_ROWS:,} customers with SQL
  (`generate_series`; keys and search text checked against `domain.values.search_key`), and drops it at
  the end.
- The service runs as `crm serve --workers 1` (CRM_ENV=test, CRM_LOG_LEVEL=WARNING, its default pool of
  10+5 connections); the reference (`bench/reference_app.py`: bare ASGI, asyncpg pool of 10, msgspec, the
  same JWT checks with pyjwt, one SQL statement per request, no session look-up) under
  `granian --interface asgi --workers 1`. Both pinned to core(s) {options.server_cores}; PostgreSQL (its
  main process and backends) and the load generator to core(s) {options.client_cores}, with `taskset`.
- Load: {generator}, {options.connections} connections, closed loop, authenticated with one bearer token.
  Per endpoint: {options.warmup:g} s warm-up of each app, then {options.runs} run(s) of {options.seconds:g} s
  per app, interleaved service/reference (the order alternating), both on the same database.
- Endpoints: random ids of the {BASE_ROWS:,} seeded customers; the first page of 20 (newest first, the
  default order); searches for 15 terms (names, fragments, an e-mail part, an id prefix, one without
  match); creation of new customers (unique ids); merge patches of the notes of random customers. Then
  the table grows to {options.deep_rows:,} rows (secondary indexes rebuilt, VACUUM ANALYZE) for the first
  page, pages 90-99 % deep through cursors the service would have issued, and the search again. Last, the
  token endpoint (password grant: argon2id, 64 MiB, t=3), service only, with 4 connections.
- The reference's create and update are the single-row insert and update the issue compares with; the
  service does what its use cases do (in one transaction, with whatever else they write, e.g. history).
- Before measuring, the reference's answers are compared with the service's (same JSON) for a read, a
  page, a search and a deep page; any difference is listed under the notes.
- Targets from issue 6: read >= 0.6x the reference, first page and search >= 0.5x, create and update
  >= 0.4x, a page a million rows deep within 1.5x the first page's p50 latency, the worker under
  200 MiB resident, no errors and no 5xx. The figures are only comparable within one run on one machine.
"""


def _service_env(
    db: database.Database, secret: str, data_dir: Path, extra: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    inherited = ("DATABASE_URL", "SECRET_KEY", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "GRANIAN_")) and k not in inherited}
    env.update(
        CRM_ENV="test",
        DATABASE_URL=db.url,
        SECRET_KEY=secret,
        CRM_LOG_LEVEL="WARNING",
        CRM_DATA_DIR=str(data_dir),
        CRM_ACCESS_TOKEN_MINUTES="60",
    )
    env.update(extra)
    return env


def _reference_env(db: database.Database, secret: str, key_id: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("REF_", "GRANIAN_"))}
    env.update(REF_DATABASE_URL=db.url, REF_SECRET_KEY=secret, REF_KEY_ID=key_id, REF_ISSUER="crm",
               REF_AUDIENCE="crm-api", REF_POOL_SIZE="10")  # fmt: skip
    return env


async def _with_connection(url: str, action: Callable[[asyncpg.Connection], Any]) -> Any:
    connection = await asyncpg.connect(url)
    try:
        return await action(connection)
    finally:
        await connection.close()


async def _seed_base(url: str) -> seed.BenchUser:
    async def run(connection: asyncpg.Connection) -> seed.BenchUser:
        user = await seed.create_user(connection)
        await seed.add_customers(connection, user, 1, BASE_ROWS)
        await seed.check_keys(connection)
        return user

    result: seed.BenchUser = await _with_connection(url, run)
    return result


@contextlib.contextmanager
def _servers(bench: Bench, db: database.Database, session_form: str) -> Iterator[Session]:
    secret = secrets.token_urlsafe(48)
    try:
        port = _free_port()
        bench.servers[SERVICE] = processes.start(
            SERVICE,
            processes.pinned(processes.service_command(port, bench.options.service_server), bench.options.server_cores),
            _service_env(db, secret, bench.work_dir / "data", bench.options.service_env),
            port,
            bench.work_dir,
            "/health/ready",
        )
        session = Session(bench.servers[SERVICE].base_url, session_form)
        key_id = jwt.get_unverified_header(session.bearer())["kid"]
        port = _free_port()
        bench.servers[REFERENCE] = processes.start(
            REFERENCE,
            processes.pinned(processes.reference_command(port), bench.options.server_cores),
            _reference_env(db, secret, key_id),
            port,
            bench.work_dir,
            "/health",
        )
        yield session
    finally:
        for server in bench.servers.values():
            server.stop()


def _workloads(bench: Bench, db: database.Database, session: Session, user: seed.BenchUser) -> None:
    options = bench.options
    base, deep, token = endpoints(options.deep_rows)
    by_key = {endpoint.key: endpoint for endpoint in [*base, *deep, token]}
    ids = tuple(seed.customer_id(index) for index in range(1, BASE_ROWS + 1))
    reads = tuple(f"/api/v1/customers/{customer_id}" for customer_id in ids)
    first_page = ("/api/v1/customers?limit=20",)
    searches = tuple(f"/api/v1/customers?q={quote(term)}" for term in seed.SEARCH_TERMS)
    connections = options.connections

    def paths(items: tuple[str, ...]) -> Callable[[str, int], Workload]:
        return lambda app, run: Workload("paths", items, session.bearer(), connections=connections)

    bearer = session.bearer()
    for path in (reads[0], first_page[0], searches[0]):
        bench.check_parity(path, bearer)
    bench.measure(by_key["get"], paths(reads))
    bench.measure(by_key["list"], paths(first_page))
    bench.measure(by_key["search"], paths(searches))
    tag = secrets.token_hex(3)
    bench.measure(
        by_key["create"],
        lambda app, run: Workload("create", (), session.bearer(), f"w{tag}{app[0]}{run + 1}", connections=connections),
    )
    bench.measure(by_key["update"], lambda app, run: Workload("update", ids, session.bearer(), connections=connections))

    if options.only is None or options.only & {endpoint.key for endpoint in deep}:
        print(f"== growing the table to {options.deep_rows:,} customers", file=sys.stderr)
        started = time.monotonic()
        asyncio.run(_with_connection(db.url, lambda c: seed.add_customers(c, user, BASE_ROWS + 1, options.deep_rows)))
        cursors = asyncio.run(
            _with_connection(
                db.url, lambda c: seed.deep_cursors(c, options.deep_rows * 9 // 10, options.deep_rows * 99 // 100, 200)
            )
        )
        bench.notes.append(f"Growing the table to {options.deep_rows:,} rows took {time.monotonic() - started:.0f} s.")
        deep_pages = tuple(f"/api/v1/customers?cursor={cursor}" for cursor in cursors)
        bench.check_parity(deep_pages[0], session.bearer())
        bench.measure(by_key["list_deep"], paths(first_page))
        bench.measure(by_key["page_deep"], paths(deep_pages))
        bench.measure(by_key["search_deep"], paths(searches))

    form = urlencode({"grant_type": "password", "username": user.email, "password": user.password})
    bench.measure(token, lambda app, run: Workload("token", form=form, connections=4, timeout_seconds=60))


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    options = parse_options(argv)
    with contextlib.suppress(OSError, ValueError):
        os.sched_setaffinity(0, _cores(options.client_cores))
    use_wrk = options.generator == "wrk" or (options.generator == "auto" and wrk_available(install=True))
    if options.generator == "wrk" and not wrk_available(install=True):
        raise SystemExit("wrk is not installed and could not be installed.")
    generate: Generator = run_wrk if use_wrk else run_python
    generator = (
        subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.split(" Copyright")[0]
        if use_wrk
        else "Python asyncio generator (bench/load.py; may itself limit the figures)"
    )
    base, deep, token = endpoints(options.deep_rows)
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as folder, database.server() as server_url:
        bench = Bench(options, generate, Path(folder))
        db = asyncio.run(database.create(server_url))
        try:
            with database.ServerPinning(db.postmaster_pid, _cores(options.client_cores)) as pg_pinned:
                if not pg_pinned:
                    bench.notes.append("PostgreSQL could not be pinned to a core: it ran on any.")
                user = asyncio.run(_seed_base(db.url))
                form = urlencode({"grant_type": "password", "username": user.email, "password": user.password})
                machine = _machine(db, options, generator)
                if float(_load_average().split(" / ")[0]) > BUSY_LOAD:
                    bench.notes.append(
                        f"The machine was busy when the run started (load average {_load_average()}): "
                        "the figures are indicative; run again on a quiet machine."
                    )
                with _servers(bench, db, form) as session:
                    _workloads(bench, db, session, user)
        finally:
            if options.keep_database:
                print(f"The database stays: {db.url}", file=sys.stderr)
            else:
                asyncio.run(database.drop(db))
    machine["Load average at end"] = _load_average()
    everything = [*base, *deep, token]
    summaries = report.summarize(bench.records)
    results = report.targets(
        base, summaries, first_page="list_deep", deep_page="page_deep", deep_rows=options.deep_rows, sign_in=token.key
    )
    if options.service_server != "crm":
        bench.notes.append(f"The service ran under {options.service_server} instead of `crm serve`.")
    if options.service_env:
        bench.notes.append("Service environment added: " + ", ".join(f"{n}={v}" for n, v in options.service_env))
    if not use_wrk:
        bench.notes.append("wrk was not available: the Python load generator may have limited the figures.")
    text = report.page(
        machine=machine,
        method=_method(options, generator),
        endpoints=everything,
        summaries=summaries,
        results=results,
        notes=[*options.notes, *bench.notes],
    )
    print(text)
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text)
        print(f"Written to {options.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
