"""The actor cache's rules, without a database: a fake inner lookup counts what reaches "the database",
and the tests play the listener's part (connected, lost, notified)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from adapters.sql.access.actor_cache import ActorCache
from adapters.sql.access.actor_lookup import CachedActorLookup
from adapters.sql.access.change_listener import listener_dsn
from domain.sign_in import Actor

NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


@dataclass
class FakeDatabase:
    """The inner lookup: sessions by id, each with its actor and expiry; ``calls`` counts the queries."""

    sessions: dict[UUID, tuple[Actor, datetime]] = field(default_factory=dict)
    # API keys by hash, each with its actor and expiry.
    api_keys: dict[str, tuple[Actor, datetime]] = field(default_factory=dict)
    uses: list[tuple[UUID, datetime]] = field(default_factory=list)
    calls: int = 0
    # When set, each query waits for it: lets a test change things while a query is in flight.
    gate: asyncio.Event | None = None

    def sign_in(
        self, user_id: UUID | None = None, *, is_admin: bool = False, ends: datetime = NOW + timedelta(days=1)
    ) -> Actor:
        actor = Actor(user_id=user_id or uuid4(), name="Ada", is_admin=is_admin, session_id=uuid4())
        self.sessions[actor.session_id] = (actor, ends)
        return actor

    async def find_with_expiry(self, session_id: UUID, user_id: UUID, now: datetime) -> tuple[Actor, datetime] | None:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        found = self.sessions.get(session_id)
        if found is None or found[0].user_id != user_id or now >= found[1]:
            return None
        return found

    def make_api_key(self, key_hash: str, *, ends: datetime = NOW + timedelta(days=1)) -> Actor:
        key_id = uuid4()
        actor = Actor.of_api_key(key_id, "Shop sync", frozenset())
        self.api_keys[key_hash] = (actor, ends)
        return actor

    async def find_api_key_with_expiry(self, key_hash: str, now: datetime) -> tuple[Actor, datetime] | None:
        self.calls += 1
        found = self.api_keys.get(key_hash)
        return None if found is None or now >= found[1] else found

    async def record_api_key_use(self, key_id: UUID, at: datetime) -> None:
        self.uses.append((key_id, at))


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def ticks() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def lookup(database: FakeDatabase, ticks: FakeMonotonic) -> CachedActorLookup:
    """A cached lookup whose listener is never started: the tests say when it is connected."""
    cache = ActorCache(max_entries=3, max_age=60, liveness=15, monotonic=ticks)
    return CachedActorLookup(database, dsn="postgresql://unused@127.0.0.1/none", cache=cache)


def connected(lookup: CachedActorLookup) -> ActorCache:
    lookup.cache.listening_started()
    return lookup.cache


async def find(lookup: CachedActorLookup, actor: Actor, now: datetime = NOW) -> Actor | None:
    return await lookup.find(actor.session_id, actor.user_id, now)


async def test_a_second_lookup_is_answered_from_memory(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    connected(lookup)
    actor = database.sign_in()
    assert await find(lookup, actor) == actor
    assert await find(lookup, actor) == actor
    assert database.calls == 1


async def test_nothing_is_answered_from_memory_before_the_listener_connects(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    actor = database.sign_in()
    for _ in range(3):
        assert await find(lookup, actor) == actor
    assert database.calls == 3
    assert len(lookup.cache) == 0


async def test_nothing_is_answered_from_memory_while_the_listener_is_lost(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    cache = connected(lookup)
    actor = database.sign_in()
    await find(lookup, actor)
    cache.listening_stopped()
    # Revoked while nobody listened: no notification will ever come.
    del database.sessions[actor.session_id]
    assert await find(lookup, actor) is None
    assert database.calls == 2


async def test_the_cache_starts_empty_when_the_listener_is_back(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    cache = connected(lookup)
    actor = database.sign_in()
    await find(lookup, actor)
    assert len(cache) == 1
    cache.listening_started()  # reconnected: what changed meanwhile was never announced
    assert len(cache) == 0
    await find(lookup, actor)
    assert database.calls == 2


async def test_the_cache_stops_answering_when_the_listener_is_not_heard_from(
    lookup: CachedActorLookup, database: FakeDatabase, ticks: FakeMonotonic
) -> None:
    cache = connected(lookup)
    actor = database.sign_in()
    await find(lookup, actor)
    ticks.now += 14
    await find(lookup, actor)
    assert database.calls == 1
    ticks.now += 2  # 16 s without a ping or a notification: the connection may be silently dead
    assert not cache.answering
    await find(lookup, actor)
    assert database.calls == 2
    cache.heard_from_listener()  # heard again: nothing from before the silence is trusted
    assert len(cache) == 0
    await find(lookup, actor)
    assert database.calls == 3


async def test_a_session_notification_drops_that_session_only(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    cache = connected(lookup)
    ada, bob = database.sign_in(), database.sign_in()
    await find(lookup, ada)
    await find(lookup, bob)
    del database.sessions[ada.session_id]
    cache.invalidate(f"session:{ada.session_id}")
    assert await find(lookup, ada) is None
    assert await find(lookup, bob) == bob
    assert database.calls == 3


async def test_a_user_notification_drops_every_session_of_that_user(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    cache = connected(lookup)
    ada = uuid4()
    laptop, phone, bob = database.sign_in(ada, is_admin=True), database.sign_in(ada, is_admin=True), database.sign_in()
    for actor in (laptop, phone, bob):
        await find(lookup, actor)
    # Demoted: the database now says so, and announces it.
    for actor in (laptop, phone):
        database.sessions[actor.session_id] = (
            Actor(ada, actor.name, False, actor.session_id),
            database.sessions[actor.session_id][1],
        )
    cache.invalidate(f"user:{ada}")
    assert len(cache) == 1
    found = await find(lookup, laptop)
    assert found is not None
    assert found.is_admin is False
    assert await find(lookup, bob) == bob
    assert database.calls == 4


@pytest.mark.parametrize("payload", ["all", "garbage", "session:not-a-uuid", "user:"])
async def test_an_unknown_or_all_notification_empties_the_cache(
    lookup: CachedActorLookup, database: FakeDatabase, payload: str
) -> None:
    cache = connected(lookup)
    await find(lookup, database.sign_in())
    cache.invalidate(payload)
    assert len(cache) == 0


async def test_a_change_during_the_database_read_is_not_overwritten(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    """The read saw the old row, the revocation commits and is announced before the read returns:
    the stale answer must not be stored."""
    cache = connected(lookup)
    actor = database.sign_in()
    database.gate = asyncio.Event()
    reading = asyncio.create_task(find(lookup, actor))
    await asyncio.sleep(0)
    cache.invalidate(f"session:{actor.session_id}")
    database.gate.set()
    assert await reading == actor  # the answer of that instant
    assert len(cache) == 0
    database.gate = None
    del database.sessions[actor.session_id]
    assert await find(lookup, actor) is None


async def test_a_read_that_started_before_the_listener_connected_is_not_stored(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    actor = database.sign_in()
    database.gate = asyncio.Event()
    reading = asyncio.create_task(find(lookup, actor))
    await asyncio.sleep(0)
    lookup.cache.listening_started()
    database.gate.set()
    await reading
    assert len(lookup.cache) == 0


async def test_an_entry_never_outlives_its_session(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    connected(lookup)
    ends = NOW + timedelta(minutes=5)
    actor = database.sign_in(ends=ends)
    assert await find(lookup, actor, ends - timedelta(microseconds=1)) == actor
    assert await find(lookup, actor, ends) is None
    assert database.calls == 2


async def test_an_entry_is_dropped_after_the_maximum_age(
    lookup: CachedActorLookup, database: FakeDatabase, ticks: FakeMonotonic
) -> None:
    cache = connected(lookup)
    actor = database.sign_in()
    await find(lookup, actor)
    for _ in range(59):  # a minute of pings, the listener alive all along
        ticks.now += 1
        cache.heard_from_listener()
        await find(lookup, actor)
    assert database.calls == 1
    ticks.now += 1
    cache.heard_from_listener()
    await find(lookup, actor)
    assert database.calls == 2


async def test_a_session_is_never_answered_for_another_user(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    connected(lookup)
    actor = database.sign_in()
    await find(lookup, actor)
    assert await lookup.find(actor.session_id, uuid4(), NOW) is None


async def test_the_least_recently_used_entries_go_first(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    cache = connected(lookup)
    first, second, third, fourth = (database.sign_in() for _ in range(4))
    for actor in (first, second, third):
        await find(lookup, actor)
    await find(lookup, first)  # used again: now second is the least recently used
    await find(lookup, fourth)
    assert len(cache) == 3
    calls = database.calls
    for actor in (first, third, fourth):
        await find(lookup, actor)
    assert database.calls == calls
    await find(lookup, second)
    assert database.calls == calls + 1


async def test_unknown_sessions_are_not_remembered(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    connected(lookup)
    ghost = Actor(uuid4(), "Ghost", False, uuid4())
    assert await find(lookup, ghost) is None
    assert await find(lookup, ghost) is None
    assert database.calls == 2
    assert len(lookup.cache) == 0


@pytest.mark.parametrize(
    ("database_url", "dsn"),
    [
        ("postgresql+asyncpg://u:p@db:5432/crm", "postgresql://u:p@db:5432/crm?sslmode=prefer"),
        ("postgresql://u:p@127.0.0.1:5432/crm", "postgresql://u:p@127.0.0.1:5432/crm?sslmode=disable"),
        ("postgresql://u@localhost/crm?sslmode=require", "postgresql://u@localhost/crm?sslmode=require"),
        ("postgres://u@db/crm?sslmode=require", "postgresql://u@db/crm?sslmode=require"),
        ("postgresql+asyncpg://u@db/crm?ssl=verify-full", "postgresql://u@db/crm?sslmode=verify-full"),
    ],
)
def test_the_listener_connects_where_the_engine_does(database_url: str, dsn: str) -> None:
    assert listener_dsn(database_url) == dsn


async def test_the_process_that_made_a_change_forgets_without_waiting_for_its_notification(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    """Read your own writes: ``forget_user`` and ``forget_session`` drop the entries at once, whether or not
    the notification has come round yet, and leave other users' and sessions' entries alone."""
    connected(lookup)
    ada = database.sign_in(is_admin=True)
    ada_elsewhere = database.sign_in(ada.user_id, is_admin=True)
    bob = database.sign_in()
    bob_elsewhere = database.sign_in(bob.user_id)
    for actor in (ada, ada_elsewhere, bob, bob_elsewhere):
        await find(lookup, actor)
    demoted = Actor(ada.user_id, ada.name, False, ada.session_id)
    database.sessions[ada.session_id] = (demoted, NOW + timedelta(days=1))
    del database.sessions[ada_elsewhere.session_id]
    del database.sessions[bob.session_id]
    lookup.forget_user(ada.user_id)
    lookup.forget_session(bob.session_id)
    assert await find(lookup, ada) == demoted
    assert await find(lookup, ada_elsewhere) is None
    assert await find(lookup, bob) is None
    calls = database.calls
    assert await find(lookup, bob_elsewhere) == bob_elsewhere
    assert database.calls == calls  # still answered from memory


@pytest.mark.parametrize("forget", ["user", "session"])
async def test_a_read_in_flight_when_the_process_forgets_is_not_stored(
    lookup: CachedActorLookup, database: FakeDatabase, forget: str
) -> None:
    """The read saw the row before this process's change committed: its answer must not be kept."""
    cache = connected(lookup)
    actor = database.sign_in(is_admin=True)
    database.gate = asyncio.Event()
    reading = asyncio.create_task(find(lookup, actor))
    await asyncio.sleep(0)
    if forget == "user":
        lookup.forget_user(actor.user_id)
    else:
        lookup.forget_session(actor.session_id)
    database.gate.set()
    await reading
    assert len(cache) == 0


async def test_forgetting_is_no_sign_that_the_listener_is_alive(
    lookup: CachedActorLookup, database: FakeDatabase, ticks: FakeMonotonic
) -> None:
    cache = connected(lookup)
    ticks.now += 14
    lookup.forget_user(uuid4())
    ticks.now += 2  # 16 s since the listener was last heard from, liveness is 15 s
    assert not cache.answering


async def test_an_api_key_is_answered_from_memory_by_its_hash_only(
    lookup: CachedActorLookup, database: FakeDatabase
) -> None:
    connected(lookup)
    key = database.make_api_key("hash-1")
    assert await lookup.find_api_key("hash-1", NOW) == key
    assert await lookup.find_api_key("hash-1", NOW) == key
    assert database.calls == 1
    assert await lookup.find_api_key("hash-2", NOW) is None
    assert database.calls == 2
    # Its entry is no session: the session lookup by the key's id still asks the database.
    assert await lookup.find(key.session_id, key.user_id, NOW) is None
    assert database.calls == 3


@pytest.mark.parametrize("how", ["notification", "forget"])
async def test_a_deleted_api_key_is_forgotten_at_once(
    lookup: CachedActorLookup, database: FakeDatabase, how: str
) -> None:
    cache = connected(lookup)
    key = database.make_api_key("hash-1")
    await lookup.find_api_key("hash-1", NOW)
    del database.api_keys["hash-1"]
    if how == "notification":
        cache.invalidate(f"api_key:{key.user_id}")
    else:
        lookup.forget_api_key(key.user_id)
    assert await lookup.find_api_key("hash-1", NOW) is None
    assert len(cache) == 0


async def test_an_api_key_entry_never_outlives_the_key(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    connected(lookup)
    ends = NOW + timedelta(minutes=5)
    key = database.make_api_key("hash-1", ends=ends)
    assert await lookup.find_api_key("hash-1", NOW) == key
    assert await lookup.find_api_key("hash-1", ends) is None
    assert database.calls == 2


async def test_clearing_the_cache_forgets_api_keys_too(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    cache = connected(lookup)
    database.make_api_key("hash-1")
    await lookup.find_api_key("hash-1", NOW)
    cache.invalidate("all")
    await lookup.find_api_key("hash-1", NOW)
    assert database.calls == 2


async def test_the_use_of_a_key_goes_to_the_database(lookup: CachedActorLookup, database: FakeDatabase) -> None:
    key_id = uuid4()
    await lookup.record_api_key_use(key_id, NOW)
    assert database.uses == [(key_id, NOW)]
