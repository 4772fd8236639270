"""Running the Alembic migrations from code: ``crm migrate``, start-up and tests.

Alembic's command API is synchronous; it runs inside ``AsyncConnection.run_sync``. Each revision runs in a
transaction of its own (migrations/env.py: ``transaction_per_migration``), so that a revision can build an index
``CONCURRENTLY`` outside any transaction, and a failed revision leaves the ones before it applied and itself
not at all. The session carries a short ``lock_timeout`` and a ``statement_timeout``
(adapters/sql/migration_limits.py); a lock timeout is retried after a pause, a few times, then given up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, pool, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.engine import async_database_url
from adapters.sql.migration_limits import MigrationLimits
from adapters.sql.migration_plan import MigrationError, Plan, SchemaAhead, plan

logger = logging.getLogger("crm.migrate")
T = TypeVar("T")

# Replicas that start together must not migrate at the same time: the second waits, then finds
# nothing left to do. Any constant will do, as long as every caller uses the same one.
_MIGRATION_LOCK_ID = 0x43524D  # "CRM"
_LOCK_NOT_AVAILABLE = "55P03"
_QUERY_CANCELED = "57014"

# The "migrations" package sits beside "adapters", both in the repository and in the wheel.
MIGRATIONS_FOLDER = Path(__file__).resolve().parents[2] / "migrations"


class LockTimeoutGaveUp(MigrationError):
    """A revision's DDL did not get its lock within the lock timeout, every time it was tried."""


class StatementTimedOut(MigrationError):
    """A revision's statement ran longer than the statement timeout (while holding its lock)."""


@dataclass(frozen=True)
class Applied:
    """What a step did: the revisions it applied, and the contract revisions it left for later."""

    plan: Plan


def alembic_config(migrations: Path = MIGRATIONS_FOLDER, limits: MigrationLimits | None = None) -> Config:
    """Alembic's configuration without alembic.ini: code that migrates keeps its own logging."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["limits"] = limits or MigrationLimits.from_environment()
    return config


def _sqlstate(error: DBAPIError) -> str | None:
    # SQLAlchemy's asyncpg adapter exception carries the driver's one as its cause (2.0) or orig (2.1).
    for candidate in (error.orig, getattr(error.orig, "orig", None), getattr(error.orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def _current(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    connection.commit()  # alembic's own per-revision transactions must start on a connection not in one
    return heads[0] if heads else None


async def _on_locked_connection(database_url: str, work: Callable[[Connection], T]) -> T:
    """Run ``work(connection)`` (synchronous) under the migration lock, on a connection of its own."""
    engine = create_async_engine(async_database_url(database_url), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            # Session-level, taken before the lock timeout is set: a second replica waits for the first one's
            # migrations, however long; closing the connection releases it.
            await connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            await connection.commit()
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def _with_lock_retries(database_url: str, work: Callable[[Connection], T], limits: MigrationLimits) -> T:
    pauses = limits.pauses()
    for attempt in range(len(pauses) + 1):
        try:
            return await _on_locked_connection(database_url, work)
        except DBAPIError as error:
            state = _sqlstate(error)
            if state == _QUERY_CANCELED:
                raise StatementTimedOut(
                    f"A migration statement ran longer than {limits.statement_timeout_seconds:g} s and was cancelled"
                    " (CRM_MIGRATION_STATEMENT_TIMEOUT_SECONDS); nothing of that revision was applied."
                ) from error
            if state != _LOCK_NOT_AVAILABLE:
                raise
            if attempt == len(pauses):
                raise LockTimeoutGaveUp(
                    f"A migration did not get its table lock within {limits.lock_timeout_seconds:g} s in"
                    f" {attempt + 1} attempts: a long transaction holds the table. Nothing of that revision was"
                    " applied; find the blocker (docs/operations.md, 'Migrations') and run the step again."
                ) from error
            logger.warning(
                "Migration lock wait over %g s (attempt %d of %d); trying again in %g s",
                limits.lock_timeout_seconds,
                attempt + 1,
                len(pauses) + 1,
                pauses[attempt],
            )
            await asyncio.sleep(pauses[attempt])
    raise AssertionError("unreachable")  # pragma: no cover


async def migrate(
    database_url: str,
    *,
    contract: bool,
    migrations: Path = MIGRATIONS_FOLDER,
    limits: MigrationLimits | None = None,
) -> Applied | SchemaAhead:
    """One deploy step: the expand phase, or with ``contract`` everything up to head.

    A database ahead of this release's revisions is left alone (``SchemaAhead``): that is a rollback.
    """
    config = alembic_config(migrations, limits)
    scripts = ScriptDirectory.from_config(config)
    # The first attempt's plan is what the step applies in the end: a retry only resumes it.
    first: list[Plan | SchemaAhead] = []

    def run(connection: Connection) -> Applied | SchemaAhead:
        step = plan(scripts, _current(connection), contract=contract)
        if not first:
            first.append(step)
        if isinstance(step, Plan) and step.target is not None:
            config.attributes["connection"] = connection
            command.upgrade(config, step.target)
        return Applied(first[0]) if isinstance(first[0], Plan) else first[0]

    return await _with_lock_retries(database_url, run, config.attributes["limits"])


async def _run(database_url: str, action: str, revision: str, migrations: Path = MIGRATIONS_FOLDER) -> None:
    config = alembic_config(migrations)

    def run(connection: Connection) -> None:
        connection.commit()
        config.attributes["connection"] = connection
        if action == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    await _with_lock_retries(database_url, run, config.attributes["limits"])


async def upgrade(database_url: str, revision: str = "head", migrations: Path = MIGRATIONS_FOLDER) -> None:
    """Both phases up to ``revision``, whatever their phase: for tests and a developer's own database."""
    await _run(database_url, "upgrade", revision, migrations)


async def upgrade_to_head(database_url: str) -> Applied | SchemaAhead:
    """Both phases up to this release's head (``make run``, ``make migrate``, tests); does nothing when the
    database is there already, or ahead."""
    return await migrate(database_url, contract=True)


async def downgrade(database_url: str, revision: str, migrations: Path = MIGRATIONS_FOLDER) -> None:
    """Go back to ``revision`` ("base" removes everything the migrations created)."""
    await _run(database_url, "downgrade", revision, migrations)
