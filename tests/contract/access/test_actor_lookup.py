"""The actor lookup: only a live session of an active user, the one the token names, counts."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from domain.sign_in import Actor
from domain.users import User
from tests.contract.builders import T0, Backend, make_session, make_user, save_users

NOW = T0 + timedelta(hours=1)


async def _signed_in(backend: Backend, user: User, *, lifetime: timedelta = timedelta(days=1)) -> Actor:
    session = make_session(user, lifetime=lifetime)
    async with backend.uow() as uow:
        await uow.sign_in_sessions.add(session)
        await uow.commit()
    return Actor(user.id, user.name, user.is_admin, session.id)


async def test_an_active_session_of_an_active_user_is_found(backend: Backend) -> None:
    admin = make_user("ada@example.com", "Ada Admin", is_admin=True)
    await save_users(backend, admin)
    actor = await _signed_in(backend, admin)
    assert await backend.actors.find(actor.session_id, admin.id, NOW) == actor


async def test_the_actor_shows_the_users_current_admin_status(backend: Backend) -> None:
    admin = make_user("ada@example.com", "Ada Admin", is_admin=True)
    await save_users(backend, admin)
    actor = await _signed_in(backend, admin)
    admin.is_admin = False
    async with backend.uow() as uow:
        await uow.users.update(admin)
        await uow.commit()
    found = await backend.actors.find(actor.session_id, admin.id, NOW)
    assert found is not None
    assert found.is_admin is False


async def test_a_revoked_session_is_not_found(backend: Backend) -> None:
    user = make_user("ada@example.com")
    await save_users(backend, user)
    actor = await _signed_in(backend, user)
    async with backend.uow() as uow:
        await uow.sign_in_sessions.revoke(actor.session_id, NOW - timedelta(seconds=1))
        await uow.commit()
    assert await backend.actors.find(actor.session_id, user.id, NOW) is None


async def test_an_expired_session_is_not_found(backend: Backend) -> None:
    user = make_user("ada@example.com")
    await save_users(backend, user)
    actor = await _signed_in(backend, user, lifetime=timedelta(hours=1))
    ends = T0 + timedelta(hours=1)
    assert await backend.actors.find(actor.session_id, user.id, ends - timedelta(microseconds=1)) == actor
    assert await backend.actors.find(actor.session_id, user.id, ends) is None


async def test_a_deleted_users_session_is_not_found(backend: Backend) -> None:
    user = make_user("ada@example.com")
    await save_users(backend, user)
    actor = await _signed_in(backend, user)
    user.delete(NOW - timedelta(minutes=1))
    async with backend.uow() as uow:
        await uow.users.update(user)
        await uow.commit()
    assert await backend.actors.find(actor.session_id, user.id, NOW) is None


async def test_a_session_is_found_only_with_its_own_user(backend: Backend) -> None:
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    await save_users(backend, ada, bob)
    actor = await _signed_in(backend, ada)
    assert await backend.actors.find(actor.session_id, bob.id, NOW) is None
    assert await backend.actors.find(uuid4(), ada.id, NOW) is None


async def test_an_uncommitted_session_is_not_found(backend: Backend) -> None:
    user = make_user("ada@example.com")
    await save_users(backend, user)
    session = make_session(user)
    async with backend.uow() as uow:
        await uow.sign_in_sessions.add(session)
        assert await backend.actors.find(session.id, user.id, NOW) is None


async def test_forgetting_changes_no_answer_of_a_lookup_without_memory(backend: Backend) -> None:
    """The use cases call ``forget_*`` after every auth change; a lookup that keeps nothing must still
    answer from the committed state, before and after."""
    ada, bob = make_user("ada@example.com", is_admin=True), make_user("bob@example.com")
    await save_users(backend, ada, bob)
    actor = await _signed_in(backend, ada)
    backend.actors.forget_user(bob.id)
    backend.actors.forget_session(uuid4())
    assert await backend.actors.find(actor.session_id, ada.id, NOW) == actor
    ada.is_admin = False
    async with backend.uow() as uow:
        await uow.users.update(ada)
        await uow.commit()
    backend.actors.forget_user(ada.id)
    backend.actors.forget_session(actor.session_id)
    found = await backend.actors.find(actor.session_id, ada.id, NOW)
    assert found is not None
    assert found.is_admin is False
