"""The two phases: ``migrate`` applies the pending expand revisions and stops before the first contract one;
``contract=True`` applies everything; an expand revision behind an unapplied contract one is refused; a database
ahead of the release is left alone; each revision commits on its own; replicas migrating at once take turns."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Connection, text

from adapters.sql.migrate import Applied, migrate, upgrade
from adapters.sql.migration_plan import PhaseOrderRefused, Revision, SchemaAhead
from tests.adapters.migrations.conftest import BASE_REVISION, REPOSITORY_HEAD, Migrations, ScratchDatabase, on


def _state(connection: Connection) -> tuple[str, set[str]]:
    version: str = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    tables = {row[0] for row in connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname='public'"))}
    return version, tables & {"expanded", "contracted", "expanded_later"}


def _create(table: str) -> str:
    return f'op.execute("CREATE TABLE {table} (id integer PRIMARY KEY)")'


async def test_expand_stops_before_the_first_contract_revision(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    migrations.add("0007", "0006", "expand", upgrade=_create("expanded"))
    # Online, the reason and squawk's mark are comments in front of the statement.
    acknowledged = 'safe_ddl.acknowledged("CREATE TABLE contracted (id int)", rule="some-rule", why="a reason")'
    migrations.add("0008", "0007", "contract", upgrade=acknowledged)
    url = await scratch_database()
    await upgrade(url, "0006", migrations.folder)

    expanded = await migrate(url, contract=False, migrations=migrations.folder)
    assert isinstance(expanded, Applied)
    assert expanded.plan.apply == (Revision("0007", "expand"),)
    assert expanded.plan.held_back == (Revision("0008", "contract"),)
    assert expanded.plan.summary() == (
        "Applied 0007 (expand). The database is at revision 0007. Stopped before contract revision 0008 (1 held"
        " back): run `crm migrate --contract` once no older release is running."
    )
    assert await on(url, _state) == ("0007", {"expanded"})

    again = await migrate(url, contract=False, migrations=migrations.folder)
    assert isinstance(again, Applied)
    assert again.plan.apply == ()
    assert await on(url, _state) == ("0007", {"expanded"})

    contracted = await migrate(url, contract=True, migrations=migrations.folder)
    assert isinstance(contracted, Applied)
    assert contracted.plan.apply == (Revision("0008", "contract"),)
    assert contracted.plan.held_back == ()
    assert await on(url, _state) == ("0008", {"expanded", "contracted"})


async def test_an_expand_revision_behind_an_unapplied_contract_one_is_refused(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    migrations.add("0007", "0006", "contract", upgrade=_create("contracted"))
    migrations.add("0008", "0007", "expand", upgrade=_create("expanded_later"))
    url = await scratch_database()
    await upgrade(url, "0006", migrations.folder)

    with pytest.raises(PhaseOrderRefused) as refused:
        await migrate(url, contract=False, migrations=migrations.folder)
    message = str(refused.value)
    assert "\n" not in message
    assert "Expand revision 0008 comes after contract revision 0007" in message
    assert "run the contract phase of the earlier release first" in message
    assert await on(url, _state) == ("0006", set())  # refused before changing anything

    await migrate(url, contract=True, migrations=migrations.folder)
    assert await on(url, _state) == ("0008", {"contracted", "expanded_later"})


async def test_a_database_ahead_of_the_release_is_left_alone(
    scratch_database: ScratchDatabase, migrations: Migrations
) -> None:
    """An older release (the repository's own migrations) on a database a newer release (9999) migrated."""
    migrations.add("9999", BASE_REVISION, "expand", upgrade=_create("expanded"))
    url = await scratch_database()
    await upgrade(url, "head", migrations.folder)

    for contract in (False, True):
        outcome = await migrate(url, contract=contract)
        assert outcome == SchemaAhead(database="9999", known_head=REPOSITORY_HEAD)
        assert await on(url, _state) == ("9999", {"expanded"})
    assert isinstance(outcome, SchemaAhead)
    assert f"database is at revision 9999, this release knows revisions up to {REPOSITORY_HEAD}" in outcome.message()


async def test_each_revision_commits_on_its_own(scratch_database: ScratchDatabase, migrations: Migrations) -> None:
    migrations.add("0007", "0006", "expand", upgrade=_create("expanded"))
    migrations.add("0008", "0007", "expand", upgrade=_create("expanded_later") + '\nop.execute("SELECT 1/0")')
    url = await scratch_database()
    await upgrade(url, "0006", migrations.folder)
    with pytest.raises(Exception, match="division by zero"):
        await migrate(url, contract=False, migrations=migrations.folder)
    # 0007 stays applied; nothing of 0008 does.
    assert await on(url, _state) == ("0007", {"expanded"})


async def test_replicas_migrating_at_once_take_turns(scratch_database: ScratchDatabase) -> None:
    url = await scratch_database()
    outcomes = await asyncio.gather(*(migrate(url, contract=True) for _ in range(3)))
    applied = sorted(len(outcome.plan.apply) for outcome in outcomes if isinstance(outcome, Applied))
    assert applied[:2] == [0, 0]
    assert applied[2] >= 6
