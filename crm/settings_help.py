"""The words of docs/configuration.md's table of settings, by variable (crm/settings_doc.py writes the table).

The name, order, plain default and range of each setting come from ``Settings`` itself: write here what a reader
needs beyond them. ``default`` and ``allowed`` replace the generated cell when set.
"""

from __future__ import annotations

from typing import NamedTuple


class Help(NamedTuple):
    meaning: str
    default: str = ""
    allowed: str = ""
    production: str = "—"


HELP: dict[str, Help] = {
    "CRM_ENV": Help("which checks apply and some defaults (`CRM_HOST`, `CRM_LOG_FORMAT`, `SECRET_KEY`)"),
    "DATABASE_URL": Help(
        (
            "the PostgreSQL database. Unset: `crm serve`, `crm migrate`, `crm users create-admin`, `crm webhooks "
            "work` and `crm photos sweep` start an embedded PostgreSQL in `$CRM_DATA_DIR/postgres`; the ASGI factory "
            "`crm.asgi:create_app` refuses to start without it. Each served worker process opens its pool plus one "
            "connection of its own that `LISTEN`s for sign-in and API key changes (the actor cache), and another one "
            "for customer changes while it has live change streams (`CRM_LIVE_CHANGES_LINGER_SECONDS`); a webhook "
            "worker its pool plus one that `LISTEN`s for new events. The `alembic` command line "
            "(`migrations/env.py`) reads it too"
        ),
        allowed=(
            "`postgres://`, `postgresql://` or `postgresql+asyncpg://` URL; `sslmode=` is passed to asyncpg as "
            "`ssl=`, exactly; without one, `disable` for a database on this machine (loopback or a Unix socket: no "
            "TLS attempt on each new connection) and libpq's default `prefer` elsewhere"
        ),
        production="required",
    ),
    "SECRET_KEY": Help(
        (
            "signs access tokens unless `CRM_JWT_KEYS` is set (the key id is derived from it, so changing it ends "
            "every access token); the HMAC key of local photo URLs is derived from it; so is, with `CRM_JWT_KEYS` set"
            " or not, the AES-256-GCM key that seals stored `Idempotency-Key` answers (HKDF-SHA256). Changing it "
            "makes the stored answers unreadable: for up to 24 h, a repeat of a request answered before the change "
            "gets 409 instead of the first answer (nothing is made twice). It must be at least 16 characters in every"
            " environment"
        ),
        default=(
            "unset: outside production, a random secret made once and kept in `$CRM_DATA_DIR/secret_key` (mode 600)"
        ),
        allowed="text",
        production=(
            "at least 32 characters, and not `secret`, `changeme`, `change-me`, `your_secret_key_test`, `development`"
            " or `test` (any case)"
        ),
    ),
    "CRM_JWT_KEYS": Help(
        (
            "access-token signing keys for rotation: the first signs, all verify (by the token's `kid`). Unset: one "
            "key from `SECRET_KEY`"
        ),
        allowed=(
            "`id=secret,id=secret,…`, newest first; every secret at least 32 characters (checked in every environment)"
        ),
    ),
    "CRM_TOKEN_ISSUER": Help("the access tokens' `iss` claim", allowed="text"),
    "CRM_ACCESS_TOKEN_MINUTES": Help("access-token lifetime (`expires_in`)"),
    "CRM_REFRESH_TOKEN_DAYS": Help("lifetime of each refresh token, never beyond its session's end"),
    "CRM_SESSION_DAYS": Help("absolute end of a sign-in session, however often it is refreshed"),
    "CRM_TRASH_DAYS": Help(
        "how long a deleted customer stays in the trash, restorable, before `crm photos sweep` purges it (row and"
        " photo objects)"
    ),
    "CRM_PASSWORD_TIME_COST": Help("argon2id iterations"),
    "CRM_PASSWORD_MEMORY_KIB": Help("argon2id memory, KiB"),
    "CRM_PASSWORD_PARALLELISM": Help(
        "argon2id lanes. After a change of any of the three, each user's hash is upgraded at their next "
        "successful password sign-in"
    ),
    "CRM_HOST": Help("where `crm serve` listens (`--host` overrides)", allowed="address"),
    "PORT": Help("the port `crm serve` listens on (`--port` overrides)"),
    "CRM_WORKERS": Help("granian worker processes (`--workers` overrides)"),
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
        "connections kept per process (each served worker process, each webhook worker); its listener connection "
        "comes on top"
    ),
    "CRM_DB_MAX_OVERFLOW": Help(
        "extra connections per process under load. SQLAlchemy closes an overflow connection when it is returned, "
        "so any overflow opens a new connection per request under load; leave it at 0 and size the pool"
    ),
    "CRM_DB_POOL_TIMEOUT_SECONDS": Help(
        "how long a request waits for a pooled connection when all are busy; then it gets a 503 problem. The "
        "counter `crm_db_connections_opened_total` shows whether the pool churns"
    ),
    "CRM_BOOTSTRAP_ADMIN_EMAIL": Help(
        (
            "with the password below: at start-up, create this admin if no active admin exists. A password that "
            "breaks the policy stops the start-up"
        ),
        allowed="e-mail",
    ),
    "CRM_BOOTSTRAP_ADMIN_PASSWORD": Help(
        "the bootstrap admin's password", allowed="text, 12–1024 characters, not a common password"
    ),
    "CRM_BOOTSTRAP_ADMIN_NAME": Help("the bootstrap admin's name", allowed="text"),
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
        "load balancers stop sending traffic"
    ),
    "CRM_SHUTDOWN_DRAIN_SECONDS": Help(
        "then, how long requests in flight may take to finish (granian's `--workers-kill-timeout`)"
    ),
    "CRM_PHOTO_DIR": Help(
        "local photo storage, used when `CRM_S3_BUCKET` is unset", default="`$CRM_DATA_DIR/photos`", allowed="folder"
    ),
    "CRM_PHOTO_MAX_BYTES": Help("largest photo upload", default="`5242880` (5 MiB)"),
    "CRM_PHOTO_MAX_PIXELS": Help("largest width × height of an uploaded image"),
    "CRM_PHOTO_URL_LIFETIME_SECONDS": Help("how long a photo URL works"),
    "CRM_S3_BUCKET": Help(
        "selects S3 photo storage",
        default="unset: photos in the local folder",
        allowed="bucket name",
        production="required",
    ),
    "CRM_S3_PREFIX": Help(
        "prefix of every object key (`crm/` → `crm/photos/…`)", default="empty", allowed="text; `/` appended if missing"
    ),
    "CRM_S3_ENDPOINT_URL": Help(
        (
            "an S3-compatible store (MinIO, Ceph, …); path-style addressing then. Photo URLs use this host, so "
            "browsers must reach it"
        ),
        default="unset (AWS)",
        allowed="URL",
    ),
    "CRM_S3_REGION": Help(
        "the bucket's region", default="`AWS_REGION`, else botocore's own resolution", allowed="region"
    ),
    "CRM_WEBHOOK_ALLOW_PRIVATE": Help(
        (
            "webhook URLs may resolve to loopback, private, link-local or other non-public addresses (a receiver on "
            "this machine in development and tests)"
        ),
        production="must stay `false` (refused)",
    ),
    "CRM_WEBHOOKS_IN_SERVE": Help(
        (
            "run the webhook delivery worker inside each served process, beside the API; production runs `crm "
            "webhooks work` processes instead (docs/operations.md)"
        ),
        default=(
            "unset: `true` when `crm serve` starts its embedded database, else `false`; `crm serve --webhooks` (what "
            "`make run` runs) sets `true`, `--no-webhooks` `false`"
        ),
    ),
    "CRM_WEBHOOK_WORKER_LOOPS": Help(
        "parallel claim-send-settle loops per worker process; each holds one database connection while it sends "
        "(at most 10 s), and sends up to 32 deliveries at once"
    ),
    "CRM_OIDC_PROVIDERS": Help(
        (
            "OpenID Connect providers for the token-exchange grant and `GET /api/v1/auth/providers`. Checked at "
            "start-up in every environment"
        ),
        default="unset (no third-party sign-in)",
        allowed=(
            'JSON list of `{"name", "issuer", "client_id"}`: no other keys; `name` at most 100 characters; names and '
            "issuers unique; `issuer` an `https://` URL (`http://` only for `localhost`, `127.0.0.1`, `::1`) without "
            "user, query or fragment"
        ),
    ),
    # The migrations' limits (adapters/sql/migration_limits.py).
    "CRM_MIGRATION_LOCK_TIMEOUT_SECONDS": Help(
        "migrations only (`crm migrate`, start-up, the `alembic` command line): how long a revision's DDL waits "
        "for its table lock before it gives way, so that requests never queue long behind a migration that queues"
        " behind a long transaction (`lock_timeout`)"
    ),
    "CRM_MIGRATION_STATEMENT_TIMEOUT_SECONDS": Help(
        "longest a migration statement may run (`statement_timeout`); concurrent index builds and constraint "
        "validation, which block nobody, run without it (`migrations/safe_ddl.py`)"
    ),
    "CRM_MIGRATION_LOCK_RETRIES": Help(
        "how often a revision that timed out on a lock is tried again before `crm migrate` gives up (exit status "
        "1, one line)"
    ),
    "CRM_MIGRATION_RETRY_PAUSE_SECONDS": Help(
        "the pause before the first retry; it doubles each time (1, 2, 4, 8, 16, 32 s)"
    ),
}
