"""The command line of ``make bench`` and the endpoints it measures."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.report import Endpoint, Variant

ROOT = Path(__file__).resolve().parents[1]
BASE_ROWS = 10_000
# Connection counts of the pool check: GET by id at each, sessions opened after warm-up counted.
SWEEP_CONNECTIONS = (8, 16, 32, 64)
# The service once more with one setting changed, beside its default configuration, on the endpoints named.
# Add a pair "with X on/off" here (or with --variant): the row shows what X costs in the same runs.
VARIANTS = (Variant("service, access log off", (("CRM_LOG_LEVEL", "WARNING"),), frozenset({"get", "list"})),)
DESCRIPTION = "make bench: the service against a bare asyncpg reference and plain Litestar, side by side."


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
    variants: tuple[Variant, ...]

    def wants(self, key: str) -> bool:
        return self.only is None or key in self.only


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=DESCRIPTION)
    parser.add_argument("--quick", action="store_true", help="1 run of 3 s per endpoint and app, 1 s warm-up")
    parser.add_argument("--runs", type=int, help="interleaved runs per endpoint and app (default 3)")
    parser.add_argument("--seconds", type=float, help="length of each run (default 10)")
    parser.add_argument("--warmup", type=float, help="unrecorded warm-up before each endpoint (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--deep-rows", type=int, default=1_000_000, help="rows for the page-depth check")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--server-cores", default="0", help="cores of the servers (taskset -c)")
    parser.add_argument("--client-cores", default="1", help="cores of PostgreSQL and the load generator")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--only", help="comma-separated endpoint keys, e.g. get,list,pool (see the table)")
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
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL|NAME=VALUE,...|ENDPOINT,...",
        help='the service again with extra environment on some endpoints, e.g. "service, cache off|CRM_X=0|get,list"',
    )
    parser.add_argument("--no-variants", action="store_true", help="measure the default configuration only")
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
        service_env=_pairs(args.service_env),
        variants=() if args.no_variants else (*VARIANTS, *(_variant(text) for text in args.variant)),
    )


def _pairs(items: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, value) for name, _, value in (item.partition("=") for item in items if item))


def _variant(text: str) -> Variant:
    label, env, keys = [*text.split("|"), "", ""][:3]
    if not label.startswith("service"):
        raise SystemExit(f"--variant {text!r}: the label must start with 'service'.")
    return Variant(label, _pairs(env.split(",")), frozenset(keys.split(",")) if keys else frozenset({"get"}))


def endpoints(deep_rows: int) -> tuple[list[Endpoint], list[Endpoint], Endpoint]:
    """The endpoints on 10,000 customers, those on ``deep_rows`` customers, and the token endpoint."""
    rows = f"{deep_rows:,}"
    base = [
        Endpoint("get", "GET /customers/{id}, random of 10,000", 0.6, min_litestar_ratio=0.9),
        # Issue 11: the same read with an API key instead of an access token (the key's cached look-up).
        Endpoint("get_api_key", "GET /customers/{id} with an API key", with_references=False),
        Endpoint("list", "GET /customers?limit=20, first page of 10,000", 0.6, min_litestar_ratio=0.85),
        Endpoint("search", "GET /customers?q=..., 10,000 rows", 0.5),
        Endpoint("create", "POST /customers (reference: the same work)", 0.6),
        Endpoint("update", "PATCH /customers/{id} (reference: the same work)", 0.6),
    ]
    deep = [
        Endpoint("list_deep", f"GET /customers?limit=20, first page of {rows}"),
        Endpoint("page_deep", f"GET /customers?cursor=..., 90-99% deep in {rows}"),
        Endpoint("search_deep", f"GET /customers?q=..., {rows} rows"),
    ]
    token = Endpoint("token", "POST /auth/token, password grant (argon2id)", with_references=False)
    return base, deep, token


def cores(spec: str) -> set[int]:
    found: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        found.update(range(int(first), int(last or first) + 1))
    return found
