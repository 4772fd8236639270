"""Sign-in sessions and refresh tokens: storage, rotation marks, revocation and the token lock."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from application.ports.persistence import UnitOfWork
from domain.sign_in import RefreshToken, SignInSession
from tests.contract.builders import T0, Backend, make_session, make_token, make_user, race_for_lock, read, save_users


async def _save(backend: Backend, *sessions: SignInSession, tokens: tuple[RefreshToken, ...] = ()) -> None:
    async with backend.uow() as uow:
        for session in sessions:
            await uow.sign_in_sessions.add(session)
        for token in tokens:
            await uow.sign_in_sessions.add_refresh_token(token)
        await uow.commit()


async def _session(backend: Backend, session_id: UUID) -> SignInSession | None:
    return await read(backend, lambda uow: uow.sign_in_sessions.get(session_id))


async def _token(backend: Backend, token_hash: str) -> RefreshToken | None:
    return await read(backend, lambda uow: uow.sign_in_sessions.find_refresh_token(token_hash))


async def test_sessions_and_tokens_read_back_as_stored(backend: Backend) -> None:
    user = make_user("ada@example.com")
    await save_users(backend, user)
    session = make_session(user)
    token = make_token(session, "a" * 64)
    await _save(backend, session, tokens=(token,))

    assert await _session(backend, session.id) == session
    assert await _token(backend, "a" * 64) == token
    assert await _token(backend, "b" * 64) is None
    assert await _session(backend, user.id) is None


async def test_a_rotated_token_is_marked(backend: Backend) -> None:
    user = make_user("ada@example.com")
    await save_users(backend, user)
    session = make_session(user)
    await _save(backend, session, tokens=(make_token(session, "old"),))

    rotated_at = T0 + timedelta(minutes=10)
    async with backend.uow() as uow:
        await uow.sign_in_sessions.mark_rotated("old", rotated_at)
        await uow.sign_in_sessions.add_refresh_token(make_token(session, "new", at=rotated_at))
        await uow.commit()

    old, new = await _token(backend, "old"), await _token(backend, "new")
    assert old is not None
    assert new is not None
    assert old.was_rotated
    assert old.rotated_at == rotated_at
    assert not new.was_rotated


async def test_a_revoked_session_keeps_the_time_it_first_ended(backend: Backend) -> None:
    user = make_user("ada@example.com")
    await save_users(backend, user)
    session = make_session(user)
    await _save(backend, session)

    for minutes in (5, 9):
        async with backend.uow() as uow:
            await uow.sign_in_sessions.revoke(session.id, T0 + timedelta(minutes=minutes))
            await uow.commit()

    stored = await _session(backend, session.id)
    assert stored is not None
    assert stored.revoked_at == T0 + timedelta(minutes=5)
    assert not stored.is_active(T0 + timedelta(minutes=6))


async def test_revoking_all_sessions_of_a_user_can_keep_one(backend: Backend) -> None:
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    await save_users(backend, ada, bob)
    current, other, already_ended = make_session(ada), make_session(ada), make_session(ada)
    already_ended.revoked_at = T0 + timedelta(minutes=1)
    bobs = make_session(bob)
    await _save(backend, current, other, already_ended, bobs)

    at = T0 + timedelta(minutes=30)
    async with backend.uow() as uow:
        await uow.sign_in_sessions.revoke_all_of_user(ada.id, at, keep=current.id)
        await uow.commit()

    stored = [await _session(backend, session.id) for session in (current, other, already_ended, bobs)]
    assert [session.revoked_at if session else "missing" for session in stored] == [
        None,
        at,
        T0 + timedelta(minutes=1),
        None,
    ]

    async with backend.uow() as uow:
        await uow.sign_in_sessions.revoke_all_of_user(ada.id, at + timedelta(minutes=1))
        await uow.commit()
    ended = await _session(backend, current.id)
    assert ended is not None
    assert ended.revoked_at == at + timedelta(minutes=1)


async def test_a_refresh_token_found_by_one_unit_of_work_waits_for_it(backend: Backend) -> None:
    """Two refreshes with one token: the second must wait, then see the token rotated."""
    user = make_user("ada@example.com")
    await save_users(backend, user)
    session = make_session(user)
    await _save(backend, session, tokens=(make_token(session, "shared"),))

    async def lock(uow: UnitOfWork) -> RefreshToken | None:
        return await uow.sign_in_sessions.find_refresh_token("shared")

    async def rotate(uow: UnitOfWork, token: RefreshToken) -> None:
        await uow.sign_in_sessions.mark_rotated(token.token_hash, T0 + timedelta(minutes=1))

    race = await race_for_lock(backend, lock, rotate)
    assert race.events == ["first locked", "first commits", "second locked"]
    assert not race.seen["first"].was_rotated
    assert race.seen["second"].was_rotated
