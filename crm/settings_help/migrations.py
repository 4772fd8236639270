"""The migrations' limits (adapters/sql/migration_limits.py), read without the service's settings."""

from __future__ import annotations

from crm.settings_help.words import Help

MIGRATIONS: dict[str, Help] = {
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
