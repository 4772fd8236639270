"""Alembic's environment: where the database is and how to talk to it.

Two ways in:
- from code (``adapters.sql.migrate``, tests, ``crm migrate``): an open synchronous connection is
  handed over in ``config.attributes["connection"]`` (through ``AsyncConnection.run_sync``), holding the
  migration lock, with the limits in ``config.attributes["limits"]``;
- from the ``alembic`` command line: the URL comes from the environment variable ``DATABASE_URL``
  and an asyncpg engine is made here.

Either way each revision runs in a transaction of its own (``transaction_per_migration``: a revision may step
outside it with ``op.get_context().autocommit_block()`` to build an index CONCURRENTLY, see safe_ddl.py), on a
session with a short ``lock_timeout`` and a ``statement_timeout`` (adapters/sql/migration_limits.py). The offline
SQL (``alembic upgrade A:B --sql``, what squawk lints) starts with the same settings.
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, pool
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.engine import async_database_url
from adapters.sql.migration_limits import MigrationLimits
from adapters.sql.tables import metadata

config = context.config
target_metadata = metadata


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("Set DATABASE_URL to the database to migrate, e.g. postgresql://user@host/crm")
    return async_database_url(url)


def _limits() -> MigrationLimits:
    limits = config.attributes.get("limits")
    return limits if isinstance(limits, MigrationLimits) else MigrationLimits.from_environment()


def _run(connection: Connection) -> None:
    for statement in _limits().session_settings():
        connection.exec_driver_sql(statement)
    # Session settings outlive this commit; alembic's per-revision transactions must start on a connection not
    # already in one (else it would take it for the caller's transaction and run every revision in it).
    connection.commit()
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, transaction_per_migration=True
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    # NullPool: a command-line run needs one connection and must leave none behind.
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    url = os.environ.get("DATABASE_URL") or "postgresql://offline@localhost/crm"  # offline SQL connects nowhere
    context.configure(
        url=async_database_url(url), target_metadata=target_metadata, literal_binds=True, transaction_per_migration=True
    )
    for statement in _limits().session_settings():
        context.execute(statement)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    if config.config_file_name is not None:
        # Only the command line configures logging; code that calls us keeps its own.
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_with_own_engine())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
