"""What the database announces (migration 0002), and the cached lookup on a real listener connection."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.access.actor_cache import ActorCache
from adapters.sql.access.actor_lookup import CachedActorLookup
from adapters.sql.access.actor_reads import SqlActorLookup
from adapters.sql.access.change_listener import CHANNEL, LISTENER_APPLICATION_NAME, AuthChangeListener, listener_dsn
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from domain.users import User
from tests.contract.builders import T0, make_session, make_user
from tests.support.bounded import within

NOW = T0 + timedelta(hours=1)
# Every wait here is bounded, so that a listener that never answers makes a failure, not a hang: each test
# must finish within TEST_LIMIT, connecting and closing within CONNECT_LIMIT (well above their normal
# milliseconds, even on a loaded machine).
TEST_LIMIT = 60.0
CONNECT_LIMIT = 10.0


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
    connection = await asyncpg.connect(listener_dsn(database_url), timeout=CONNECT_LIMIT)
    async with asyncio.timeout(CONNECT_LIMIT):
        await connection.add_listener(CHANNEL, heard)
    try:
        yield heard
    finally:
        await connection.close(timeout=CONNECT_LIMIT)


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
@within(TEST_LIMIT)
async def test_a_user_change_is_announced_when_it_matters(
    clean_database: AsyncEngine, announcements: Announcements, change: str, announced: bool
) -> None:
    ada = make_user("ada@example.com")
    await _users_with_session(clean_database, ada)
    await _run(clean_database, f"UPDATE users SET {change} WHERE id = :id", id=ada.id)
    assert await announcements.settled() == ([f"user:{ada.id}"] if announced else [])


@within(TEST_LIMIT)
async def test_a_session_revocation_and_deletion_are_announced(
    clean_database: AsyncEngine, announcements: Announcements
) -> None:
    [session_id] = await _users_with_session(clean_database, make_user("ada@example.com"))
    await _run(clean_database, "UPDATE sign_in_sessions SET revoked_at = now() WHERE id = :id", id=session_id)
    await _run(clean_database, "DELETE FROM sign_in_sessions WHERE id = :id", id=session_id)
    assert await announcements.settled() == [f"session:{session_id}", f"session:{session_id}"]


@pytest.mark.parametrize(
    ("change", "announced"),
    [
        ("deleted_at = now()", True),
        ("expires_at = now()", True),
        ("scopes = ARRAY['customers:write']", True),
        ("name = 'Renamed'", True),
        ("last_used_at = now()", False),
    ],
)
@within(TEST_LIMIT)
async def test_an_api_key_change_is_announced_when_it_matters(
    clean_database: AsyncEngine, announcements: Announcements, change: str, announced: bool
) -> None:
    admin = make_user("ada@example.com", is_admin=True)
    await _users_with_session(clean_database, admin)
    key_id = uuid4()
    await _run(
        clean_database,
        "INSERT INTO api_keys (id, name, scopes, prefix, key_hash, created_at, created_by)"
        " VALUES (:id, 'Shop sync', ARRAY['customers:read'], 'crm_abcdefgh', 'hash', now(), :admin)",
        id=key_id,
        admin=admin.id,
    )
    await _run(clean_database, f"UPDATE api_keys SET {change} WHERE id = :id", id=key_id)
    assert await announcements.settled() == ([f"api_key:{key_id}"] if announced else [])


@within(TEST_LIMIT)
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


@within(TEST_LIMIT)
async def test_emptying_the_tables_is_announced(clean_database: AsyncEngine, announcements: Announcements) -> None:
    await _run(clean_database, "TRUNCATE refresh_tokens, sign_in_sessions")
    assert await announcements.settled() == ["all"]


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
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
        async with asyncio.timeout(CONNECT_LIMIT):
            await lookup.aclose()


@within(TEST_LIMIT)
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


@within(TEST_LIMIT)
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


@within(TEST_LIMIT)
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
        async with asyncio.timeout(CONNECT_LIMIT):
            await lookup.aclose()
    assert not lookup.cache.answering


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A DSN for a server that accepts connections and then says nothing, as a stuck one would."""
    accepted: list[asyncio.StreamWriter] = []

    async def keep_silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(keep_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql://nobody@127.0.0.1:{port}/none?sslmode=disable"
    finally:
        for writer in accepted:
            writer.close()
        server.close()


def _refused_dsn() -> str:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://nobody@127.0.0.1:{port}/none?sslmode=disable"


@within(TEST_LIMIT)
@pytest.mark.parametrize("where", ["connecting to a silent server", "waiting to retry"])
async def test_closing_the_listener_never_waits_for_the_database(silent_server: str, where: str) -> None:
    cache = ActorCache()
    dsn = silent_server if where.startswith("connecting") else _refused_dsn()
    # Timeouts far longer than the test may wait: only cancellation can stop the listener in time.
    listener = AuthChangeListener(dsn, cache, timeout=30.0, retry_min=30.0)
    await listener.start()
    await asyncio.sleep(0.2)  # connecting, or refused and now in its back-off
    started = time.monotonic()
    await listener.aclose()
    assert time.monotonic() - started < 1.0
    assert not cache.answering
