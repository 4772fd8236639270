"""The service as a whole: where it runs and listens, its database and pool, its logs, traces and shutdown."""

from __future__ import annotations

from crm.settings_help.words import Help

SERVICE: dict[str, Help] = {
    "CRM_ENV": Help("which checks apply and some defaults (`CRM_HOST`, `CRM_LOG_FORMAT`, `SECRET_KEY`)"),
    "DATABASE_URL": Help(
        (
            "the PostgreSQL database. Unset: `crm serve`, `crm migrate`, `crm users create-admin`, `crm webhooks "
            "work` and `crm photos sweep` start an embedded PostgreSQL in `$CRM_DATA_DIR/postgres`; the ASGI factory "
            "`crm.asgi:create_app` refuses to start without it. Each served worker process opens its pool plus one "
            "connection of its own that `LISTEN`s for sign-in and API key changes (the actor cache), and one more "
            "that `LISTEN`s for customer changes while it has live change streams open (and "
            "`CRM_LIVE_CHANGES_LINGER_SECONDS` after the last); a webhook worker its pool plus one that `LISTEN`s "
            "for new events. The `alembic` command line (`migrations/env.py`) reads it too"
        ),
        allowed=(
            "`postgres://`, `postgresql://` or `postgresql+asyncpg://` URL; `sslmode=` is passed to asyncpg as "
            "`ssl=`, exactly; without one, `disable` for a database on this machine (loopback or a Unix socket: no "
            "TLS attempt on each new connection) and libpq's default `prefer` elsewhere"
        ),
        production="required",
    ),
    "CRM_HOST": Help("where `crm serve` listens (`--host` overrides)", allowed="address"),
    "PORT": Help("the port `crm serve` listens on (`--port` overrides)"),
    "CRM_WORKERS": Help(
        "granian worker processes (`--workers` overrides). Every per-process limit (the pool, the live change "
        "streams, the connections) holds in each of them"
    ),
    "CRM_REQUEST_CONNECTIONS": Help(
        (
            "connections each worker process serves at once besides its live change streams: requests in flight, "
            "connections kept open between requests (a load balancer's pool), probes. Granian counts connections, not"
            " requests: its limit per worker (`--backpressure`) is this plus `CRM_LIVE_CHANGES_MAX_STREAMS`, set by "
            "`crm serve` whatever `GRANIAN_BACKPRESSURE` says, so that streams never take this room. A connection past"
            " the limit waits unanswered in the kernel's queue until another closes. `crm serve` raises its limit of "
            "open files (`ulimit -n`) to the sum plus 256 if the hard limit allows, and warns if not"
        ),
        production=(
            "the default, granian's own for one worker before streams existed. Once it is full, probes wait like any"
            " request: readiness fails, which takes the pod out of rotation "
            "([operations.md](operations.md#capacity-connections-per-worker))"
        ),
    ),
    "CRM_DATA_DIR": Help(
        (
            "the local data folder: embedded PostgreSQL (`postgres/`; as root, when the server's account "
            "`crm-postgres` cannot enter it, in `/var/lib/crm-postgres/data-<hash>` instead, as the start-up log "
            "says), development secret (`secret_key`), local photos (`photos/`)"
        ),
        allowed="folder",
    ),
    "CRM_PUBLIC_URL": Help(
        "the service's address as browsers reach it; local photo URLs start with it",
        default="`http://127.0.0.1:<PORT>`",
        allowed="URL; a trailing `/` is removed",
    ),
    "CRM_CORS_ORIGINS": Help(
        "the browser origins allowed to call the API",
        default="unset (no CORS headers)",
        allowed="comma-separated origins",
    ),
    "CRM_TRUSTED_PROXIES": Help(
        (
            "proxies whose `X-Forwarded-For` is believed when the client address is taken for sign-in throttling "
            "and for the fair-use quota of anonymous callers. An entry that is not an IP address or network stops "
            "the start-up, naming it"
        ),
        allowed="comma-separated IP addresses or CIDRs",
    ),
    "CRM_DB_POOL_SIZE": Help(
        "connections kept per process (each served worker process, each webhook worker); its `LISTEN` "
        "connections (see `DATABASE_URL`) come on top"
    ),
    "CRM_DB_MAX_OVERFLOW": Help(
        "extra connections per process under load. SQLAlchemy closes an overflow connection when it is returned, "
        "so any overflow opens a new connection per request under load; leave it at 0 and size the pool"
    ),
    "CRM_DB_POOL_TIMEOUT_SECONDS": Help(
        "how long a request waits for a pooled connection when all are busy; then it gets a 503 problem. The "
        "counter `crm_db_connections_opened_total` shows whether the pool churns"
    ),
    "CRM_LOG_LEVEL": Help(
        "log level of every process: the served workers, `crm serve`, `crm webhooks work` and the other `crm` commands"
    ),
    "CRM_LOG_FORMAT": Help(
        "one JSON object per line, or readable lines, on standard output, in every process: the served workers, "
        "`crm serve`, `crm webhooks work`, `crm migrate`, `crm users create-admin`, `crm photos sweep`"
    ),
    "CRM_OTLP_ENDPOINT": Help(
        (
            "turns OpenTelemetry tracing on: one span per request (not for `/health…` or `/metrics`), service name "
            "`crm-service`, sent to `<endpoint>/v1/traces`"
        ),
        default="unset (no tracing)",
        allowed="URL of an OTLP/HTTP collector, e.g. `http://otel-collector:4318`",
    ),
    "CRM_SHUTDOWN_DELAY_SECONDS": Help(
        "after SIGTERM, how long `crm serve` keeps serving while `/health/ready` already answers 503, so that "
        "load balancers stop sending traffic. Also the `retry:` that live change streams send (at least 1 s), so "
        "that a client whose stream the shutdown ended comes back once this server is out of rotation"
    ),
    "CRM_SHUTDOWN_DRAIN_SECONDS": Help(
        "then, how long requests in flight may take to finish (granian's `--workers-kill-timeout`)"
    ),
}
