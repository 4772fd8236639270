"""The user repository: look-ups, unique active e-mails, the users list and the admin lock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from application.ports.persistence import UserListQuery
from domain.errors import Conflict
from domain.users import User, ensure_an_admin_remains
from domain.values import Email, PersonName
from tests.contract.builders import T0, Backend, make_user, read, save_users

DUPLICATE_EMAIL = "A user with this e-mail already exists."


async def test_a_user_reads_back_as_stored(backend: Backend) -> None:
    user = make_user("Ada.Lovelace@Example.com", "Ada Lovelace", is_admin=True)
    oidc_only = replace(make_user("grace@example.com", "Grace Hopper"), password_hash=None)
    await save_users(backend, user, oidc_only)

    assert await read(backend, lambda uow: uow.users.get(user.id)) == user
    assert await read(backend, lambda uow: uow.users.get(oidc_only.id)) == oidc_only
    found = await read(backend, lambda uow: uow.users.get_by_email("ada.lovelace@example.com"))
    assert found == user
    assert found is not None
    assert found.email == "Ada.Lovelace@Example.com"  # stored as given, found by its key


async def test_changes_to_a_user_are_stored(backend: Backend) -> None:
    user = make_user("ada@example.com", "Ada")
    await save_users(backend, user)
    changed = replace(user, email=Email("ada@new.example"), name=PersonName("Ada L."), is_admin=True)
    changed.password_hash = "$argon2id$another"
    changed.touch(T0 + timedelta(minutes=5))
    async with backend.uow() as uow:
        await uow.users.update(changed)
        await uow.commit()

    stored = await read(backend, lambda uow: uow.users.get(user.id))
    assert stored == changed
    assert stored is not None
    assert stored.version == 2
    assert await read(backend, lambda uow: uow.users.get_by_email("ada@example.com")) is None


async def test_deleted_users_are_not_found(backend: Backend) -> None:
    user = make_user("ada@example.com", is_admin=True)
    await save_users(backend, user)
    user.delete(T0 + timedelta(hours=1))
    async with backend.uow() as uow:
        await uow.users.update(user)
        await uow.commit()

    assert await read(backend, lambda uow: uow.users.get(user.id)) is None
    assert await read(backend, lambda uow: uow.users.get_by_email("ada@example.com")) is None
    assert await read(backend, lambda uow: uow.users.count_active_admins()) == 0


async def test_an_active_email_is_unique_whatever_its_case(backend: Backend) -> None:
    await save_users(backend, make_user("ada@example.com"))
    with pytest.raises(Conflict) as raised:
        await save_users(backend, make_user("ADA@Example.COM"))
    assert raised.value.detail == DUPLICATE_EMAIL


async def test_changing_the_email_to_a_taken_one_conflicts(backend: Backend) -> None:
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    await save_users(backend, ada, bob)
    bob.email = Email("Ada@example.com")
    with pytest.raises(Conflict) as raised:
        async with backend.uow() as uow:
            await uow.users.update(bob)
    assert raised.value.detail == DUPLICATE_EMAIL


async def test_a_deleted_users_email_is_free_again(backend: Backend) -> None:
    old = make_user("ada@example.com", "Old Ada")
    await save_users(backend, old)
    old.delete(T0 + timedelta(hours=1))
    async with backend.uow() as uow:
        await uow.users.update(old)
        await uow.commit()

    new = make_user("ADA@example.com", "New Ada")
    await save_users(backend, new)
    assert await read(backend, lambda uow: uow.users.get_by_email("ada@example.com")) == new


async def test_active_admins_are_counted(backend: Backend) -> None:
    deleted_admin = make_user("gone@example.com", is_admin=True)
    deleted_admin.delete(T0)
    await save_users(
        backend,
        make_user("a@example.com", is_admin=True),
        make_user("b@example.com", is_admin=True),
        make_user("c@example.com"),
        deleted_admin,
    )
    assert await read(backend, lambda uow: uow.users.count_active_admins()) == 2
    assert await read(backend, lambda uow: uow.users.count_active_admins(lock=True)) == 2


@pytest.fixture
async def people(backend: Backend) -> dict[str, User]:
    deleted = make_user("dave@example.com", "Dave Gone", is_admin=True)
    deleted.delete(T0)
    users = {
        "alice": make_user("Alice@Example.com", "Alice Admin", is_admin=True),
        "bob": make_user("bob@example.com", "Bob Clerk"),
        "carol": make_user("CAROL@example.org", "Carol Émond", is_admin=True),
        "erin": make_user("erin@example.com", "Erin_Underscore"),
        "frank": make_user("frank@example.com", "FRANK 100%"),
        "dave": deleted,
    }
    await save_users(backend, *users.values())
    return users


async def _list(backend: Backend, query: UserListQuery) -> list[User]:
    return await read(backend, lambda uow: uow.users.list(query))


async def _names(backend: Backend, query: UserListQuery) -> list[str]:
    return [str(user.name) for user in await _list(backend, query)]


async def test_the_users_list_has_active_users_by_email_key(backend: Backend, people: dict[str, User]) -> None:
    assert await _names(backend, UserListQuery(limit=10)) == [
        "Alice Admin",
        "Bob Clerk",
        "Carol Émond",
        "Erin_Underscore",
        "FRANK 100%",
    ]


@pytest.mark.parametrize(
    ("search", "is_admin", "expected"),
    [
        ("EXAMPLE.COM", None, ["Alice Admin", "Bob Clerk", "Erin_Underscore", "FRANK 100%"]),
        ("carol émond", None, ["Carol Émond"]),
        ("ÉMOND", None, ["Carol Émond"]),
        ("frank", None, ["FRANK 100%"]),
        # LIKE's wildcards in the search are plain characters.
        ("_", None, ["Erin_Underscore"]),
        ("%", None, ["FRANK 100%"]),
        ("b_b", None, []),
        (None, True, ["Alice Admin", "Carol Émond"]),
        (None, False, ["Bob Clerk", "Erin_Underscore", "FRANK 100%"]),
        ("example.com", True, ["Alice Admin"]),
        ("dave", None, []),
    ],
)
async def test_the_users_list_is_searched_and_filtered(
    backend: Backend, people: dict[str, User], search: str | None, is_admin: bool | None, expected: list[str]
) -> None:
    # The use case casefolds the search text before it reaches the repository.
    query = UserListQuery(limit=10, search=search.casefold() if search else None, is_admin=is_admin)
    assert await _names(backend, query) == expected


async def test_the_users_list_pages_by_email_key_and_id(backend: Backend, people: dict[str, User]) -> None:
    pages: list[list[str]] = []
    query = UserListQuery(limit=2)
    while page := await _list(backend, query):
        pages.append([str(user.name) for user in page])
        query = UserListQuery(limit=2, after=(page[-1].email.key, page[-1].id))
    assert pages == [["Alice Admin", "Bob Clerk"], ["Carol Émond", "Erin_Underscore"], ["FRANK 100%"]]


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(backend: Backend) -> None:
    """The last-admin rule under concurrency: each unit of work counts the admins with the lock,
    then demotes its own target. The second must wait for the first and then count one admin."""
    first, second = make_user("first@example.com", is_admin=True), make_user("second@example.com", is_admin=True)
    await save_users(backend, first, second)
    seen: list[int] = []
    refused: list[str] = []

    async def demote(target: User) -> None:
        async with backend.uow() as uow:
            admins = await uow.users.count_active_admins(lock=True)
            seen.append(admins)
            # Give the other unit of work every chance to count before this one writes.
            await asyncio.sleep(0.2)
            try:
                ensure_an_admin_remains(admins - 1)
            except Conflict:
                refused.append(str(target.email))
                return
            current = await uow.users.get(target.id)
            assert current is not None
            current.is_admin = False
            current.touch(T0 + timedelta(minutes=1))
            await uow.users.update(current)
            await uow.commit()

    await asyncio.wait_for(asyncio.gather(demote(first), demote(second)), timeout=10)

    assert sorted(seen) == [1, 2]
    assert len(refused) == 1
    assert await read(backend, lambda uow: uow.users.count_active_admins()) == 1
