"""A replica reads its own auth changes: the process that commits a demotion, a password change, a deletion
or the end of a session never answers the next request from what its actor cache knew before, even if its
listener has not heard the notification yet.

The listener is never started here, and the test plays its part by switching the cache on: so no
notification ever arrives, and only the use cases' own word (``ActorLookup.forget_*``) can keep the
answers right. Each test first proves that the answer really comes from memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.access.actor_lookup import CachedActorLookup
from application.access.sign_in import TokenPair
from application.access.users import NewUser, UserChanges
from crm.container import Application, build_container
from domain.errors import InvalidGrant, NotAuthenticated
from domain.sign_in import SYSTEM_OPERATOR, Actor
from domain.users import User
from tests.service.api.conftest import make_settings
from tests.service.api.helpers import PASSWORD
from tests.support.bounded import within

NEW_PASSWORD = "a whole new passphrase 77"
TEST_LIMIT = 60.0  # a failure, never a hang


@dataclass
class Replica:
    container: Application
    actors: CachedActorLookup

    async def user(self, email: str, *, admin: bool = False) -> User:
        return await self.container.create_user().execute(
            SYSTEM_OPERATOR, NewUser(email, email.split("@")[0], PASSWORD, is_admin=admin)
        )

    async def sign_in(self, user: User) -> TokenPair:
        return await self.container.sign_in_with_password().execute(str(user.email), PASSWORD)

    async def who(self, pair: TokenPair) -> Actor:
        return await self.container.authenticate().execute(pair.access_token)

    async def remembered(self, pair: TokenPair) -> Actor:
        """Who is behind the token, making sure that the answer is now in the cache."""
        actor = await self.who(pair)
        kept = len(self.actors.cache)
        assert await self.who(pair) == actor
        assert len(self.actors.cache) == kept >= 1
        return actor


@pytest.fixture
async def replica(database_url: str, clean_database: AsyncEngine, tmp_path: Path) -> AsyncIterator[Replica]:
    container = build_container(make_settings(database_url, tmp_path))
    actors = container.adapters.actors()
    assert isinstance(actors, CachedActorLookup)
    actors.cache.listening_started()  # "connected", but nothing will ever be announced
    try:
        yield Replica(container, actors)
    finally:
        await container.adapters.engine().dispose()


@within(TEST_LIMIT)
async def test_a_demoted_admin_is_no_admin_on_the_next_request(replica: Replica) -> None:
    ada, bob = await replica.user("ada@example.com", admin=True), await replica.user("bob@example.com", admin=True)
    admin = await replica.who(await replica.sign_in(ada))
    bobs = await replica.sign_in(bob)
    assert (await replica.remembered(bobs)).is_admin
    await replica.container.update_user().execute(admin, bob.id, UserChanges(is_admin=False))
    assert not (await replica.who(bobs)).is_admin


@within(TEST_LIMIT)
async def test_a_renamed_user_is_named_anew_on_the_next_request(replica: Replica) -> None:
    ada, bob = await replica.user("ada@example.com", admin=True), await replica.user("bob@example.com")
    admin = await replica.who(await replica.sign_in(ada))
    bobs = await replica.sign_in(bob)
    await replica.remembered(bobs)
    await replica.container.update_user().execute(admin, bob.id, UserChanges(name="Robert"))
    assert (await replica.who(bobs)).name == "Robert"


@within(TEST_LIMIT)
@pytest.mark.parametrize("change", ["password by an admin", "deletion"])
async def test_an_admins_change_ends_the_users_sessions_at_once(replica: Replica, change: str) -> None:
    ada, bob = await replica.user("ada@example.com", admin=True), await replica.user("bob@example.com")
    admin = await replica.who(await replica.sign_in(ada))
    bobs = await replica.sign_in(bob)
    await replica.remembered(bobs)
    if change == "deletion":
        await replica.container.delete_user().execute(admin, bob.id)
    else:
        await replica.container.update_user().execute(admin, bob.id, UserChanges(password=NEW_PASSWORD))
    with pytest.raises(NotAuthenticated):
        await replica.who(bobs)
    assert (await replica.who(await replica.sign_in(ada))).is_admin  # other users are unaffected


@within(TEST_LIMIT)
async def test_changing_my_password_ends_my_other_sessions_at_once(replica: Replica) -> None:
    bob = await replica.user("bob@example.com")
    here, elsewhere = await replica.sign_in(bob), await replica.sign_in(bob)
    me = await replica.remembered(here)
    await replica.remembered(elsewhere)
    await replica.container.change_my_password().execute(me, PASSWORD, NEW_PASSWORD)
    assert await replica.who(here) == me
    with pytest.raises(NotAuthenticated):
        await replica.who(elsewhere)


async def _revoke(replica: Replica, pair: TokenPair) -> None:
    await replica.container.revoke_sign_in().execute(pair.refresh_token)


async def _reuse_a_refresh_token(replica: Replica, pair: TokenPair) -> None:
    await replica.container.refresh_sign_in().execute(pair.refresh_token)
    with pytest.raises(InvalidGrant):
        await replica.container.refresh_sign_in().execute(pair.refresh_token)


@within(TEST_LIMIT)
@pytest.mark.parametrize("end", [_revoke, _reuse_a_refresh_token], ids=["revoked", "refresh token reused"])
async def test_an_ended_session_is_refused_at_once(
    replica: Replica, end: Callable[[Replica, TokenPair], Awaitable[None]]
) -> None:
    bob = await replica.user("bob@example.com")
    ending, staying = await replica.sign_in(bob), await replica.sign_in(bob)
    await replica.remembered(ending)
    stays = await replica.remembered(staying)
    await end(replica, ending)
    with pytest.raises(NotAuthenticated):
        await replica.who(ending)
    assert await replica.who(staying) == stays
