"""The signed-in user's own account: who am I, and changing my password."""

from __future__ import annotations

from application.access.authorization import require_person
from application.access.users import get_user
from application.ports.persistence import UnitOfWorkFactory
from application.ports.security import ActorLookup, PasswordHasher
from application.ports.system import Clock
from domain.errors import InvalidInput
from domain.passwords import check_password_policy
from domain.sign_in import Actor
from domain.users import User


class WhoAmI:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor) -> User:
        require_person(actor)
        async with self._uow.for_reading() as uow:
            return await get_user(uow, actor.user_id)


class ChangeMyPassword:
    """Users change their own password with the current one; their other sessions end."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, actors: ActorLookup) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._actors = actors

    async def execute(self, actor: Actor, current_password: str, new_password: str) -> None:
        require_person(actor)
        check_password_policy(new_password, "new_password")
        async with self._uow() as uow:
            user = await get_user(uow, actor.user_id)
        if (
            len(current_password) > 1024
            or user.password_hash is None
            or not await self._hasher.verify(user.password_hash, current_password)
        ):
            raise InvalidInput.single("current_password", "is not your current password")
        new_hash = await self._hasher.hash(new_password)
        async with self._uow() as uow:
            user = await get_user(uow, actor.user_id)
            now = self._clock.now()
            user.password_hash = new_hash
            user.touch(now)
            await uow.users.update(user)
            await uow.sign_in_sessions.revoke_all_of_user(user.id, now, keep=actor.session_id)
            await uow.commit()
        self._actors.forget_user(user.id)
