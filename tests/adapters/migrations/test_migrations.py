"""The migrations: each revision declares its phase and goes up, down and up again; base to head and back gives the
same schema (pg_dump); a revision that cannot go down says why; head equals ``adapters.sql.tables``."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from adapters.sql.migrate import alembic_config, downgrade, upgrade
from adapters.sql.migration_plan import PHASES, MigrationError, chain, phase_of
from adapters.sql.tables import metadata
from migrations.safe_ddl import Irreversible
from tests.adapters.migrations.conftest import Migrations, ScratchDatabase, on, schema_dump

OUR_TABLES = {
    "users",
    "customers",
    "customer_changes",
    "sign_in_sessions",
    "refresh_tokens",
    "sign_in_failures",
    "webhooks",
    "webhook_events",
    "webhook_deliveries",
    "webhook_attempts",
    "idempotency_records",
    "actors",
    "api_keys",
    "customer_events",
    "customer_event_commits",
    "rate_limit_admissions",
    "rate_limit_replicas",
}


def _tables(connection: Connection) -> set[str]:
    rows = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
    return {row.tablename for row in rows}


def _extensions(connection: Connection) -> set[str]:
    return {row.extname for row in connection.execute(text("SELECT extname FROM pg_extension"))}


def _catalogue(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """What alembic's comparison leaves out: collations, partial-index predicates, index methods
    and operator classes, check constraints, foreign key actions."""
    queries = {
        "columns": """
            SELECT table_name, column_name, data_type, is_nullable, column_default, collation_name
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name <> 'alembic_version'""",
        "indexes": """
            SELECT tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' AND tablename <> 'alembic_version'""",
        "constraints": """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'alembic_version'
            -- Constraint triggers (0008's commit-order trigger) are triggers, which the tables module has none of.
            AND contype <> 't'""",
    }
    return {name: sorted(tuple(row) for row in connection.execute(text(sql))) for name, sql in queries.items()}


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata))


async def test_every_revision_upgrades_downgrades_and_upgrades_again(scratch_database: ScratchDatabase) -> None:
    url = await scratch_database()
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = list(reversed(list(scripts.walk_revisions("base", "heads"))))
    assert [revision.revision for revision in revisions][:1] == ["0001"]

    for revision in revisions:
        await upgrade(url, revision.revision)
        await downgrade(url, str(revision.down_revision or "base"))
        await upgrade(url, revision.revision)

    assert await on(url, _tables) == {*OUR_TABLES, "alembic_version"}
    await downgrade(url, "base")
    assert await on(url, _tables) == {"alembic_version"}
    assert "pg_trgm" not in await on(url, _extensions)


async def test_the_migrated_schema_equals_the_tables_module(scratch_database: ScratchDatabase) -> None:
    migrated = await scratch_database()
    await upgrade(migrated, "head")
    assert await on(migrated, _differences) == []

    # The same schema made straight from the tables module must look the same in the catalogue.
    created = await scratch_database()

    def create(connection: Connection) -> None:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        metadata.create_all(connection)

    await on(created, create)
    migrated_catalogue, created_catalogue = await on(migrated, _catalogue), await on(created, _catalogue)
    assert migrated_catalogue == created_catalogue
    assert {row[0] for row in migrated_catalogue["columns"]} == OUR_TABLES


async def test_upgrading_a_database_at_head_changes_nothing(scratch_database: ScratchDatabase) -> None:
    url = await scratch_database()
    await upgrade(url, "head")
    before = await on(url, _catalogue)
    await upgrade(url, "head")
    assert await on(url, _catalogue) == before


async def test_0006_makes_every_user_an_actor_and_keeps_names_current(scratch_database: ScratchDatabase) -> None:
    url = await scratch_database()
    await upgrade(url, "0005")

    def seed(connection: Connection) -> None:
        connection.execute(
            text(
                "INSERT INTO users (id, email, email_key, name, is_admin, created_at, updated_at, version)"
                " VALUES ('00000000-0000-4000-8000-000000000001', 'ada@example.com', 'ada@example.com', 'Ada',"
                " true, now(), now(), 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO customers (id, name, surname, name_key, surname_key, search_text, created_at,"
                " created_by, updated_at, updated_by, version) VALUES ('C-1', 'Bo', 'Bo', 'bo', 'bo', 'bo', now(),"
                " '00000000-0000-4000-8000-000000000001', now(), '00000000-0000-4000-8000-000000000001', 1)"
            )
        )

    await on(url, seed)
    await upgrade(url, "0006")

    def actors(connection: Connection) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in connection.execute(text("SELECT id::text, name FROM actors ORDER BY name"))]

    assert await on(url, actors) == [("00000000-0000-4000-8000-000000000001", "Ada")]

    def rename_and_add_a_key(connection: Connection) -> None:
        connection.execute(text("UPDATE users SET name = 'Ada L.'"))
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, scopes, prefix, key_hash, created_at, created_by) VALUES"
                " ('00000000-0000-4000-8000-000000000002', 'Shop sync', ARRAY['customers:read'], 'crm_x', 'h',"
                " now(), '00000000-0000-4000-8000-000000000001')"
            )
        )

    await on(url, rename_and_add_a_key)
    assert await on(url, actors) == [
        ("00000000-0000-4000-8000-000000000001", "Ada L."),
        ("00000000-0000-4000-8000-000000000002", "Shop sync"),
    ]

    def write_as_nobody(connection: Connection) -> None:
        connection.execute(text("UPDATE customers SET updated_by = '00000000-0000-4000-8000-00000000dead'"))

    with pytest.raises(IntegrityError):
        await on(url, write_as_nobody)
    # Nothing names the key yet, so the way back is open.
    await downgrade(url, "0005")
    assert "actors" not in await on(url, _tables)


def test_every_migration_declares_its_phase() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = chain(scripts)
    assert len(revisions) == len(list(scripts.walk_revisions())) >= 6
    for script in scripts.walk_revisions():
        assert script.module.PHASE in PHASES, script.path
        assert phase_of(script) == script.module.PHASE
    # History: applied before the phases existed, each before its release rolled out.
    assert {revision.phase for revision in revisions if revision.id <= "0006"} == {"expand"}


def test_a_revision_without_a_valid_phase_is_refused(migrations: Migrations) -> None:
    migrations.add("0007", "0006", "sideways", upgrade="pass")
    with pytest.raises(MigrationError, match=r"Migration 0007 .* must declare PHASE = 'expand' or 'contract'"):
        chain(ScriptDirectory.from_config(alembic_config(migrations.folder)))


async def test_base_to_head_to_base_to_head_gives_the_same_schema(scratch_database: ScratchDatabase) -> None:
    url = await scratch_database()
    await upgrade(url, "head")
    first = schema_dump(url)
    await downgrade(url, "base")
    assert "CREATE TABLE public.customers" not in schema_dump(url)
    await upgrade(url, "head")
    second = schema_dump(url)
    assert "CREATE TABLE public.customers" in first
    assert "CREATE TRIGGER trg_users_actor" in first
    assert second == first


async def test_a_revision_that_cannot_go_down_says_why(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    migrations.add(
        "0007",
        "0006",
        "contract",
        upgrade='op.execute("CREATE TABLE merged (id integer PRIMARY KEY)")',
        downgrade='raise safe_ddl.Irreversible("0007", "the merged rows cannot be told apart again")',
    )
    url = await scratch_database()
    await upgrade(url, "head", migrations.folder)
    with pytest.raises(Irreversible, match="Revision 0007 cannot be downgraded: the merged rows cannot be told apart"):
        await downgrade(url, "0006", migrations.folder)

    def version(connection: Connection) -> str:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())

    assert await on(url, version) == "0007"
    assert "merged" in await on(url, _tables)
