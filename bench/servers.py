"""Starting the service and the two references on the benchmark's database, and stopping them."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import jwt

from bench import database, processes
from bench.harness import Bench, Session
from bench.report import LITESTAR, REFERENCE, SERVICE

REFERENCE_APPS = {REFERENCE: "bench.reference_app:app", LITESTAR: "bench.litestar_app:app"}
POOL_SIZE = 10  # the references' pool; the service uses its default (CRM_DB_POOL_SIZE, also 10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def service_env(
    db: database.Database, secret: str, data_dir: Path, extra: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    inherited = ("DATABASE_URL", "SECRET_KEY", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "GRANIAN_")) and k not in inherited}
    env.update(
        CRM_ENV="test",
        DATABASE_URL=db.url,
        SECRET_KEY=secret,
        # As the image runs it: the access log on at the default level INFO, JSON lines (production's format).
        CRM_LOG_FORMAT="json",
        CRM_DATA_DIR=str(data_dir),
        CRM_ACCESS_TOKEN_MINUTES="60",
        # Limits on, as users run the service, with quotas one user's load never reaches (a million requests in
        # 10 s, a billion a day for keys); bench/fair_use.py sets the limiter on against off side by side.
        CRM_RATE_LIMIT_REQUESTS="1000000",
        CRM_RATE_LIMIT_WINDOW_SECONDS="10",
        CRM_API_KEY_DAILY_QUOTA="1000000000",
    )
    env.update(extra)
    return env


def reference_env(db: database.Database, secret: str, key_id: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("REF_", "GRANIAN_"))}
    env.update(REF_DATABASE_URL=db.url, REF_SECRET_KEY=secret, REF_KEY_ID=key_id, REF_ISSUER="crm",
               REF_AUDIENCE="crm-api", REF_POOL_SIZE=str(POOL_SIZE))  # fmt: skip
    return env


def start_service(
    bench: Bench, db: database.Database, secret: str, label: str, extra_env: tuple[tuple[str, str], ...]
) -> None:
    """The service (one worker, its default pool) as ``label``, ``extra_env`` on top of its default configuration."""
    options = bench.options
    port = free_port()
    bench.servers[label] = processes.start(
        label.replace(", ", "-").replace(" ", "-"),
        processes.pinned(processes.service_command(port, options.service_server), options.server_cores),
        service_env(db, secret, bench.work_dir / label.replace(" ", "-"), extra_env),
        port,
        bench.work_dir,
        "/health/ready",
    )


@contextlib.contextmanager
def running(bench: Bench, db: database.Database, session_form: str) -> Iterator[Session]:
    """The service, then the references (which need the service's token key id); all stopped at the end."""
    secret = secrets.token_urlsafe(48)
    options = bench.options
    try:
        start_service(bench, db, secret, SERVICE, options.service_env)
        wanted = [variant for variant in options.variants if any(options.wants(key) for key in variant.endpoints)]
        for variant in wanted:
            start_service(bench, db, secret, variant.label, (*options.service_env, *variant.env))
        session = Session(bench.servers[SERVICE].base_url, session_form)
        key_id = jwt.get_unverified_header(session.bearer())["kid"]
        for name, app in REFERENCE_APPS.items():
            port = free_port()
            bench.servers[name] = processes.start(
                name,
                processes.pinned(processes.reference_command(port, app), options.server_cores),
                reference_env(db, secret, key_id),
                port,
                bench.work_dir,
                "/health",
            )
        yield session
    finally:
        for server in bench.servers.values():
            server.stop()
