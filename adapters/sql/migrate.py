"""Running the Alembic migrations from code: ``crm migrate``, start-up and tests.

Alembic's command API is synchronous; it runs inside ``AsyncConnection.run_sync`` on a
connection whose transaction we own, so that a failed migration leaves nothing half done
(PostgreSQL runs DDL inside transactions).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.engine import async_database_url

# Replicas that start together must not migrate at the same time: the second waits, then finds
# nothing left to do. Any constant will do, as long as every caller uses the same one.
_MIGRATION_LOCK_ID = 0x43524D  # "CRM"

# The "migrations" package sits beside "adapters", both in the repository and in the wheel.
MIGRATIONS_FOLDER = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration without alembic.ini: code that migrates keeps its own logging."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER))
    return config


async def _run(database_url: str, action: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        if action == "upgrade":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)

    engine = create_async_engine(async_database_url(database_url), poolclass=pool.NullPool)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(database_url: str, revision: str = "head") -> None:
    await _run(database_url, "upgrade", revision)


async def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the newest schema; does nothing when it is there already."""
    await upgrade(database_url, "head")


async def downgrade(database_url: str, revision: str) -> None:
    """Go back to ``revision`` ("base" removes everything the migrations created)."""
    await _run(database_url, "downgrade", revision)
