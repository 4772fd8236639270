"""Migration 0009: a customer write notifies ``crm_customer_changes`` only while a live changes listener (a session
named ``crm-live-changes:<process id>``) is connected to the database, also when the writer's role is not a
superuser and the listener is another role's session; a downgrade to 0008 notifies at every write again."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from adapters.sql.customers.events import CHANNEL, LISTENER_APPLICATION_NAME
from adapters.sql.migrate import downgrade, upgrade
from tests.adapters.migrations.conftest import ScratchDatabase
from tests.support.notifications import Watcher

ACTOR = "00000000-0000-4000-8000-000000000001"
CHANGE = """WITH c AS (
    UPDATE customers SET notes = 'Changed', updated_at = now(), version = version + 1 WHERE id = 'C-1'
    RETURNING id, updated_by)
INSERT INTO customer_changes (customer_id, kind, actor_id, at, changes)
SELECT c.id, 'updated', c.updated_by, now(), '[]'::jsonb FROM c"""


@pytest.fixture
async def url(scratch_database: ScratchDatabase) -> str:
    """A database at 0009 with one customer."""
    url = await scratch_database()
    await upgrade(url, "0009")
    connection = await asyncpg.connect(_dsn(url))
    try:
        await connection.execute(
            "INSERT INTO users (id, email, email_key, name, is_admin, created_at, updated_at, version)"
            f" VALUES ('{ACTOR}', 'ada@example.com', 'ada@example.com', 'Ada', true, now(), now(), 1)"
        )
        await connection.execute(
            "INSERT INTO customers (id, name, surname, name_key, surname_key, search_text, created_at, created_by,"
            f" updated_at, updated_by, version) VALUES ('C-1', 'Bo', 'Bo', 'bo', 'bo', 'bo', now(), '{ACTOR}', now(),"
            f" '{ACTOR}', 1)"
        )
    finally:
        await connection.close()
    return url


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
async def writer(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(_dsn(url), server_settings={"application_name": "test-writer"})
    yield connection
    await connection.close()


@pytest.fixture
async def watcher(url: str) -> AsyncIterator[Watcher]:
    watcher = await Watcher.connect(_dsn(url))
    yield watcher
    await watcher.aclose()


async def _live_changes_listener(url: str) -> asyncpg.Connection:
    name = f"{LISTENER_APPLICATION_NAME}:{secrets.randbelow(10**6)}"
    listener = await asyncpg.connect(_dsn(url), server_settings={"application_name": name})
    await listener.add_listener(CHANNEL, lambda *_: None)
    return listener


async def test_a_write_notifies_only_while_a_live_changes_listener_is_connected(
    url: str, writer: asyncpg.Connection, watcher: Watcher
) -> None:
    await writer.execute(CHANGE)
    assert await watcher.heard_in_round() == []

    listener = await _live_changes_listener(url)
    await writer.execute(CHANGE)
    await writer.execute(CHANGE)
    assert await watcher.heard_in_round() == ["", ""]

    await listener.close()
    await watcher.wait_for_listeners(0)
    await writer.execute(CHANGE)
    assert await watcher.heard_in_round() == []


async def test_a_writer_that_is_no_superuser_sees_the_listener_of_another_role(
    url: str, writer: asyncpg.Connection, watcher: Watcher
) -> None:
    role = f"crm_test_writer_{secrets.token_hex(4)}"
    await writer.execute(f"CREATE ROLE {role} NOSUPERUSER NOLOGIN")
    try:
        await writer.execute(f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {role}")
        await writer.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}")

        async def write_as_the_role() -> None:
            async with writer.transaction():
                await writer.execute(f"SET LOCAL ROLE {role}")
                assert await writer.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False
                await writer.execute(CHANGE)

        await write_as_the_role()
        assert await watcher.heard_in_round() == []
        # The listener is the superuser's session: the role sees its application_name all the same.
        listener = await _live_changes_listener(url)
        try:
            await write_as_the_role()
            assert await watcher.heard_in_round() == [""]
        finally:
            await listener.close()
    finally:
        await writer.execute(f"DROP OWNED BY {role}")
        await writer.execute(f"DROP ROLE {role}")


async def test_0008_notified_at_every_write_and_a_downgrade_brings_that_back(
    url: str, writer: asyncpg.Connection, watcher: Watcher
) -> None:
    await downgrade(url, "0008")
    await writer.execute(CHANGE)
    assert await watcher.heard_in_round() == [""]

    await upgrade(url, "0009")
    await writer.execute(CHANGE)
    assert await watcher.heard_in_round() == []
