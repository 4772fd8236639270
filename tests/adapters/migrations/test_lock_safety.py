"""Lock-safe DDL: a migration waits for its lock only ``lock_timeout``, tries again after a pause, and gives up
cleanly; a statement over ``statement_timeout`` is cancelled; migrations/safe_ddl.py builds indexes concurrently
(dropping an INVALID leftover first) and adds constraints NOT VALID, then validates them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from sqlalchemy import Connection, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.sql.migrate import Applied, LockTimeoutGaveUp, StatementTimedOut, migrate, upgrade
from adapters.sql.migration_limits import MigrationLimits
from tests.adapters.migrations.conftest import Migrations, ScratchDatabase, long_reader, on

QUICK = MigrationLimits(lock_timeout_seconds=0.1, statement_timeout_seconds=2, lock_retries=2, first_pause_seconds=0.05)
ADD_COLUMN = 'op.execute("ALTER TABLE customers ADD COLUMN company text")'


def _version_and_columns(connection: Connection) -> tuple[str, set[str]]:
    version: str = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    columns = connection.execute(
        text("SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'")
    )
    return version, {row[0] for row in columns}


async def test_a_lock_timeout_is_retried_and_the_migration_then_succeeds(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    migrations.add("0007", "0006", "expand", upgrade='op.execute("CREATE TABLE expanded (id integer)")')
    migrations.add("0008", "0007", "expand", upgrade=ADD_COLUMN)
    url = await scratch_database()
    await upgrade(url, "0006", migrations.folder)
    first_wait_over = asyncio.Event()

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "lock wait over" in record.getMessage():
                first_wait_over.set()

    watch = Watch()
    logging.getLogger("crm.migrate").addHandler(watch)
    try:
        limits = MigrationLimits(lock_timeout_seconds=0.1, statement_timeout_seconds=2, lock_retries=3)
        async with long_reader(url) as reader:
            migration = asyncio.create_task(migrate(url, contract=False, migrations=migrations.folder, limits=limits))
            await asyncio.wait_for(first_wait_over.wait(), timeout=30)
            await reader.commit()  # the long transaction ends during the pause
            outcome = await migration
    finally:
        logging.getLogger("crm.migrate").removeHandler(watch)
    # 0007 went in on the first attempt, 0008 on a retry: the step reports both.
    assert isinstance(outcome, Applied)
    assert [revision.id for revision in outcome.plan.apply] == ["0007", "0008"]
    version, columns = await on(url, _version_and_columns)
    assert version == "0008"
    assert "company" in columns


async def test_a_lock_timeout_every_time_gives_up_cleanly(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    migrations.add("0007", "0006", "expand", upgrade=ADD_COLUMN)
    url = await scratch_database()
    await upgrade(url, "0006", migrations.folder)
    async with long_reader(url):
        with pytest.raises(LockTimeoutGaveUp) as gave_up:
            await migrate(url, contract=False, migrations=migrations.folder, limits=QUICK)
    assert str(gave_up.value).startswith("A migration did not get its table lock within 0.1 s in 3 attempts")
    version, columns = await on(url, _version_and_columns)
    assert version == "0006"
    assert "company" not in columns


async def test_a_statement_over_the_statement_timeout_is_cancelled(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    migrations.add("0007", "0006", "expand", upgrade=ADD_COLUMN + '\nop.execute("SELECT pg_sleep(5)")')
    url = await scratch_database()
    await upgrade(url, "0006", migrations.folder)
    limits = MigrationLimits(statement_timeout_seconds=0.2)
    with pytest.raises(StatementTimedOut, match=r"ran longer than 0\.2 s and was cancelled"):
        await migrate(url, contract=False, migrations=migrations.folder, limits=limits)
    version, columns = await on(url, _version_and_columns)
    assert version == "0006"
    assert "company" not in columns


async def test_safe_ddl_builds_concurrently_and_validates_constraints_on_a_table_with_rows(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    migrations.add(
        "0007",
        "0006",
        "expand",
        upgrade="""
        safe_ddl.create_index_concurrently("uq_webhooks_url", "webhooks", ["url"], unique=True)
        safe_ddl.add_check("ck_webhooks_url_https", "webhooks", "url LIKE 'https://%'")
        safe_ddl.add_foreign_key("fk_webhooks_created_by_actors", "webhooks", ["created_by"], "actors", ["id"])
        """,
        downgrade="""
        op.execute("ALTER TABLE webhooks DROP CONSTRAINT fk_webhooks_created_by_actors")
        op.execute("ALTER TABLE webhooks DROP CONSTRAINT ck_webhooks_url_https")
        safe_ddl.drop_index_concurrently("uq_webhooks_url")
        """,
    )
    url = await scratch_database()
    await upgrade(url, "0006", migrations.folder)

    def webhooks_and_an_invalid_leftover(connection: Connection) -> None:
        connection.execute(
            text(
                "INSERT INTO users (id, email, email_key, name, is_admin, created_at, updated_at, version) VALUES"
                " ('00000000-0000-4000-8000-000000000001', 'a@example.com', 'a@example.com', 'A', true, now(),"
                " now(), 1)"
            )
        )
        for number in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO webhooks (id, url, events, secret, active, created_at, created_by, updated_at)"
                    " VALUES (:id, 'https://hooks.example.com/crm', ARRAY['*'], 's', true, now(),"
                    " '00000000-0000-4000-8000-000000000001', now())"
                ),
                {"id": f"00000000-0000-4000-8000-00000000010{number}"},
            )

    await on(url, webhooks_and_an_invalid_leftover)
    # A unique build over duplicate URLs fails and leaves an INVALID index of that name behind.
    engine = create_async_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            with contextlib.suppress(Exception):
                await connection.execute(text("CREATE UNIQUE INDEX CONCURRENTLY uq_webhooks_url ON webhooks (url)"))
            await connection.execute(
                text("UPDATE webhooks SET url = url || '/2' WHERE id = '00000000-0000-4000-8000-000000000102'")
            )
    finally:
        await engine.dispose()

    def index_valid(connection: Connection) -> bool | None:
        return connection.execute(
            text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('uq_webhooks_url')")
        ).scalar()

    assert await on(url, index_valid) is False
    outcome = await migrate(url, contract=False, migrations=migrations.folder)
    assert isinstance(outcome, Applied)
    assert await on(url, index_valid) is True

    def constraints(connection: Connection) -> dict[str, bool]:
        rows = connection.execute(
            text("SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'webhooks'::regclass")
        )
        return {row.conname: row.convalidated for row in rows}

    found = await on(url, constraints)
    assert found["ck_webhooks_url_https"] is True
    assert found["fk_webhooks_created_by_actors"] is True
