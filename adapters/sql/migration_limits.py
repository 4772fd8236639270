"""How long a migration may wait for a lock and run one statement, and how often a lock wait is retried.

A migration's DDL queues for its table lock behind every running transaction, and every request that touches the
table then queues behind the migration: a short ``lock_timeout`` (half a second, so that no write waits a second
behind a migration) bounds that stall, and a retry after a pause gives the migration another chance once the long
transaction is gone (GitLab's ``with_lock_retries``). The
``statement_timeout`` bounds a statement that holds its lock while it works; steps that only take locks which let
reads and writes go on (``CREATE INDEX CONCURRENTLY``, ``VALIDATE CONSTRAINT``) lift it (migrations/safe_ddl.py).

Read from the environment by every way in (``crm migrate``, start-up, the ``alembic`` command line), not from
``crm.settings``: Alembic's env.py runs without the service's settings. docs/configuration.md lists the variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated

import msgspec

_POSITIVE_SECONDS = msgspec.Meta(gt=0, le=3600)


class MigrationLimits(msgspec.Struct, frozen=True, kw_only=True):
    lock_timeout_seconds: Annotated[float, _POSITIVE_SECONDS] = msgspec.field(
        name="CRM_MIGRATION_LOCK_TIMEOUT_SECONDS", default=0.5
    )
    statement_timeout_seconds: Annotated[float, _POSITIVE_SECONDS] = msgspec.field(
        name="CRM_MIGRATION_STATEMENT_TIMEOUT_SECONDS", default=60.0
    )
    # Attempts after the first; the pause doubles each time (1, 2, 4, 8, 16, 32 s by default).
    lock_retries: Annotated[int, msgspec.Meta(ge=0, le=20)] = msgspec.field(
        name="CRM_MIGRATION_LOCK_RETRIES", default=6
    )
    first_pause_seconds: Annotated[float, msgspec.Meta(ge=0, le=600)] = msgspec.field(
        name="CRM_MIGRATION_RETRY_PAUSE_SECONDS", default=1.0
    )

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> MigrationLimits:
        env = os.environ if env is None else env
        names = {field.encode_name for field in msgspec.structs.fields(cls)}
        raw = {name: value for name, value in env.items() if name in names and value.strip()}
        try:
            return msgspec.convert(raw, cls, strict=False)
        except msgspec.ValidationError as error:
            raise ValueError(f"Migration limits: {error}") from None

    def pauses(self) -> list[float]:
        """The pause before each retry."""
        return [self.first_pause_seconds * 2**attempt for attempt in range(self.lock_retries)]

    def session_settings(self) -> list[str]:
        """The statements that put these limits on a migration's session (and at the top of its offline SQL)."""
        return [
            f"SET lock_timeout = '{round(self.lock_timeout_seconds * 1000)}ms'",
            f"SET statement_timeout = '{round(self.statement_timeout_seconds * 1000)}ms'",
        ]
