"""The unit of work: only commit makes changes stick."""

from __future__ import annotations

import pytest

from tests.contract.builders import Backend, make_user, read


async def test_changes_without_commit_are_rolled_back(backend: Backend) -> None:
    user = make_user("ada@example.com")
    async with backend.uow() as uow:
        await uow.users.add(user)
        # The unit of work sees its own change...
        assert await uow.users.get(user.id) == user
    # ...but nobody else does once it ends without a commit.
    assert await read(backend, lambda uow: uow.users.get(user.id)) is None


async def test_an_error_rolls_back_and_propagates(backend: Backend) -> None:
    user = make_user("ada@example.com")

    async def fail_half_way() -> None:
        async with backend.uow() as uow:
            await uow.users.add(user)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await fail_half_way()
    assert await read(backend, lambda uow: uow.users.get(user.id)) is None


async def test_committed_changes_stay_and_later_ones_roll_back(backend: Backend) -> None:
    kept, dropped = make_user("kept@example.com"), make_user("dropped@example.com")
    async with backend.uow() as uow:
        await uow.users.add(kept)
        await uow.commit()
        await uow.users.add(dropped)
    assert await read(backend, lambda uow: uow.users.get(kept.id)) == kept
    assert await read(backend, lambda uow: uow.users.get(dropped.id)) is None


async def test_uncommitted_changes_are_invisible_to_other_units_of_work(backend: Backend) -> None:
    user = make_user("ada@example.com")
    async with backend.uow() as writer:
        await writer.users.add(user)
        assert await read(backend, lambda uow: uow.users.get(user.id)) is None
        await writer.commit()
    assert await read(backend, lambda uow: uow.users.get(user.id)) == user


async def test_a_reading_unit_of_work_reads_but_cannot_commit(backend: Backend) -> None:
    async with backend.uow() as uow:
        await uow.users.add(make_user("reader@example.com"))
        await uow.commit()
    async with backend.uow.for_reading() as uow:
        assert await uow.users.get_by_email("reader@example.com") is not None
        with pytest.raises(RuntimeError):
            await uow.commit()


async def test_commit_outside_the_block_is_refused(backend: Backend) -> None:
    uow = backend.uow()
    with pytest.raises(RuntimeError, match="outside"):
        await uow.commit()
    async with uow:
        await uow.users.add(make_user("late@example.com"))
    with pytest.raises(RuntimeError, match="outside"):
        await uow.commit()
    assert await read(backend, lambda reader: reader.users.get_by_email("late@example.com")) is None
