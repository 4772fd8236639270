"""Fair use (contract 1.2): each caller's quota, API keys' daily quota, and how long a statement may hold the database.

The limiter: application/access/limiter.py, shared between processes by admission_sync.py (decision record 0033);
counted at the edge (adapters/http/edge/fair_use.py). The statement timeout: adapters/sql/engine.py (0034).
"""

from __future__ import annotations

from crm.settings_help.words import Help

FAIR_USE: dict[str, Help] = {
    "CRM_RATE_LIMIT_REQUESTS": Help(
        (
            "requests each caller may make per `CRM_RATE_LIMIT_WINDOW_SECONDS` under `/api/v1` (`/health…`, "
            "`/metrics` and `/docs…` never count), smoothly: a caller that has waited may send the whole quota at "
            'once (GCRA; the `"burst"` policy of the `RateLimit-Policy` header). The caller is the API key, else the '
            "signed-in user, else (signing in, a missing or bad token) the client address. Over it: 429 "
            "`quota-exceeded` with `Retry-After`, and nothing done ([api.md](api.md#rate-limits-and-quotas)). Each "
            "worker process decides alone, without I/O, and the processes exchange what they admitted through "
            "PostgreSQL about once a second: a caller spread over several gets at most about 25 % more (while the "
            "exchange fails, each process counts alone). `0` turns this quota, the daily one and their headers "
            "off; not the limit of 2 exports or imports at once per caller (counted per process)"
        ),
        production=(
            "set `CRM_TRUSTED_PROXIES` too: without it, every caller without a token (signing in, among them) counts "
            "as the load balancer's address, all in one quota"
        ),
    ),
    "CRM_RATE_LIMIT_WINDOW_SECONDS": Help(
        "the window of `CRM_RATE_LIMIT_REQUESTS` (the header's `w`): a spent quota comes back one request "
        "every window ÷ quota seconds (0.1 s by default), and is whole again at most one window after the "
        "last request. What every process admitted is kept in PostgreSQL for the window and a minute or two "
        "more (per caller and minute), and a process that starts (a restart, a new pod) is charged with it "
        "before its first request, so a long window holds across rollouts too; the longer the window, the "
        "more rows (one per caller, minute and process)"
    ),
    "CRM_API_KEY_DAILY_QUOTA": Help(
        'requests each API key may make per 86,400 s, on top of the window\'s quota (the `"daily"` policy; '
        "users and client addresses have none). Smooth like the window, not a calendar day: a spent quota "
        "comes back one request every 86,400 ÷ quota seconds. Off with `CRM_RATE_LIMIT_REQUESTS=0`. Counted "
        "in the worker processes' memory; what each admitted per key and minute is kept in PostgreSQL for a "
        "day, and a process that starts (a restart, a new pod) is charged with it before its first request, "
        "so a key's day survives rollouts (a stopping process reports its last second first; a killed one "
        "loses it). When PostgreSQL crashes the record is gone (UNLOGGED tables) and every key's day starts "
        "afresh. A brake on a runaway script, not metering"
    ),
    "CRM_DB_STATEMENT_TIMEOUT_SECONDS": Help(
        (
            "how long one SQL statement on a served process's pool may run: PostgreSQL cancels it "
            "(`statement_timeout`, set on each pooled connection as it opens), the request gets a 503 problem with "
            "`Retry-After`, and the connection goes back to the pool. It bounds every statement on that pool: "
            "requests, the live changes' reads, the processes' fair-use exchange, and the webhook worker when it "
            "runs inside `crm serve`. An import's statements, from its first bulk write on, may run twelve times as"
            " long; the export's batches each get their own. `0`: no limit; fractions are kept to the millisecond. "
            "`crm` commands (`webhooks work`, `photos sweep`, `users create-admin`) run without it; migrations have "
            "`CRM_MIGRATION_STATEMENT_TIMEOUT_SECONDS`"
        ),
        production="not `0`: one slow search would then hold a pooled connection for as long as it runs",
    ),
}
