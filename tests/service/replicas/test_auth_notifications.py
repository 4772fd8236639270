"""What the database announces (migration 0002), and the cached lookup on a real listener connection."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.actor_cache import CachedActorLookup
from adapters.sql.actor_lookup import SqlActorLookup
from adapters.sql.auth_change_listener import CHANNEL, LISTENER_APPLICATION_NAME, listener_dsn
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.users import User
from tests.contract.builders import T0, make_session, make_user

NOW = T0 + timedelta(hours=1)


class Announcements:
    """Everything notified on the channel, heard on a connection of our own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.payloads: list[str] = []

    def __call__(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        if not payload.startswith("ping:"):  # running services' listeners echo themselves
            self.payloads.append(payload)

    async def settled(self) -> list[str]:
        """What was announced so far: listeners get notifications in commit order, so once a marker
        sent now has arrived, so has everything committed before it."""
        async with self._engine.begin() as connection:
            await connection.execute(text("SELECT pg_notify(:channel, 'marker')"), {"channel": CHANNEL})
        await _until(lambda: "marker" in self.payloads)
        return self.payloads[: self.payloads.index("marker")]


@pytest.fixture
async def announcements(database_url: str, clean_database: AsyncEngine) -> AsyncIterator[Announcements]:
    heard = Announcements(clean_database)
    connection = await asyncpg.connect(listener_dsn(database_url))
    await connection.add_listener(CHANNEL, heard)
    try:
        yield heard
    finally:
        await connection.close()


async def _users_with_session(engine: AsyncEngine, *users: User) -> list[UUID]:
    sessions = [make_session(user) for user in users]
    async with SqlUnitOfWorkFactory(engine)() as uow:
        for user in users:
            await uow.users.add(user)
        for session in sessions:
            await uow.sign_in_sessions.add(session)
        await uow.commit()
    return [session.id for session in sessions]


async def _run(engine: AsyncEngine, sql: str, **values: object) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(sql), values)


@pytest.mark.parametrize(
    ("change", "announced"),
    [
        ("is_admin = NOT is_admin", True),
        ("name = 'Someone Else'", True),
        ("deleted_at = now()", True),
        ("password_hash = 'another hash'", True),
        ("email = 'new@example.com', email_key = 'new@example.com'", True),
        ("updated_at = now(), version = version + 1", False),
        ("name = name, is_admin = is_admin", False),
    ],
)
async def test_a_user_change_is_announced_when_it_matters(
    clean_database: AsyncEngine, announcements: Announcements, change: str, announced: bool
) -> None:
    ada = make_user("ada@example.com")
    await _users_with_session(clean_database, ada)
    await _run(clean_database, f"UPDATE users SET {change} WHERE id = :id", id=ada.id)
    assert await announcements.settled() == ([f"user:{ada.id}"] if announced else [])


async def test_a_session_revocation_and_deletion_are_announced(
    clean_database: AsyncEngine, announcements: Announcements
) -> None:
    [session_id] = await _users_with_session(clean_database, make_user("ada@example.com"))
    await _run(clean_database, "UPDATE sign_in_sessions SET revoked_at = now() WHERE id = :id", id=session_id)
    await _run(clean_database, "DELETE FROM sign_in_sessions WHERE id = :id", id=session_id)
    assert await announcements.settled() == [f"session:{session_id}", f"session:{session_id}"]


async def test_nothing_is_announced_for_a_rolled_back_change(
    clean_database: AsyncEngine, announcements: Announcements
) -> None:
    ada = make_user("ada@example.com")
    [session_id] = await _users_with_session(clean_database, ada)
    async with clean_database.connect() as connection:
        await connection.execute(text("UPDATE users SET is_admin = true WHERE id = :id"), {"id": ada.id})
        await connection.execute(
            text("UPDATE sign_in_sessions SET revoked_at = now() WHERE id = :id"), {"id": session_id}
        )
        await connection.rollback()
    assert await announcements.settled() == []


async def test_emptying_the_tables_is_announced(clean_database: AsyncEngine, announcements: Announcements) -> None:
    await _run(clean_database, "TRUNCATE refresh_tokens, sign_in_sessions")
    assert await announcements.settled() == ["all"]


async def _until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def cached(database_url: str, clean_database: AsyncEngine) -> AsyncIterator[CachedActorLookup]:
    lookup = CachedActorLookup(SqlActorLookup(clean_database), dsn=listener_dsn(database_url), retry_min=0.1)
    await lookup.start()
    try:
        await _until(lambda: lookup.cache.answering)
        yield lookup
    finally:
        await lookup.aclose()


async def test_the_cached_lookup_forgets_what_the_database_announces(
    clean_database: AsyncEngine, cached: CachedActorLookup
) -> None:
    ada, bob = make_user("ada@example.com", is_admin=True), make_user("bob@example.com")
    ada_session, bob_session = await _users_with_session(clean_database, ada, bob)
    found = await cached.find(ada_session, ada.id, NOW)
    assert found is not None
    assert found.is_admin
    assert await cached.find(bob_session, bob.id, NOW) is not None
    assert len(cached.cache) == 2

    # Other listeners' heartbeats are not changes.
    await _run(clean_database, "SELECT pg_notify(:channel, 'ping:1:1')", channel=CHANNEL)
    await asyncio.sleep(0.05)
    assert len(cached.cache) == 2

    await _run(clean_database, "UPDATE users SET is_admin = false WHERE id = :id", id=ada.id)
    await _until(lambda: len(cached.cache) == 1)
    found = await cached.find(ada_session, ada.id, NOW)
    assert found is not None
    assert not found.is_admin

    await _run(clean_database, "UPDATE sign_in_sessions SET revoked_at = now() WHERE id = :id", id=bob_session)
    await _until(lambda: len(cached.cache) == 1)
    assert await cached.find(bob_session, bob.id, NOW) is None


async def test_the_cached_lookup_stops_answering_while_its_listener_is_lost(
    clean_database: AsyncEngine, cached: CachedActorLookup
) -> None:
    ada = make_user("ada@example.com")
    [session_id] = await _users_with_session(clean_database, ada)
    assert await cached.find(session_id, ada.id, NOW) is not None
    assert len(cached.cache) == 1

    await _run(
        clean_database,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name",
        name=f"{LISTENER_APPLICATION_NAME}:{os.getpid()}",
    )
    await _until(lambda: not cached.cache.answering)
    assert len(cached.cache) == 0
    assert await cached.find(session_id, ada.id, NOW) is not None
    assert len(cached.cache) == 0  # not kept: nobody would tell us when it changes

    await _until(lambda: cached.cache.answering)
    assert await cached.find(session_id, ada.id, NOW) is not None
    assert len(cached.cache) == 1


async def test_the_listener_keeps_the_cache_on_by_hearing_its_own_echo(
    database_url: str, clean_database: AsyncEngine
) -> None:
    # Pings every 0.2 s: the cache would stop answering 0.6 s after the last echo.
    lookup = CachedActorLookup(SqlActorLookup(clean_database), dsn=listener_dsn(database_url), ping_interval=0.2)
    await lookup.start()
    try:
        await _until(lambda: lookup.cache.answering)
        for _ in range(12):
            await asyncio.sleep(0.1)
            assert lookup.cache.answering
    finally:
        await lookup.aclose()
    assert not lookup.cache.answering
