"""Managing users: the admin's user management (the caller's own account is in my_account.py)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.access.authorization import require_admin
from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory, UserListQuery
from application.ports.security import ActorLookup, PasswordHasher
from application.ports.system import Clock, IdGenerator
from application.validation import Problems, check_search
from domain.errors import Conflict, MalformedRequest, NotFound
from domain.passwords import check_password_policy
from domain.sign_in import SYSTEM_OPERATOR, Actor
from domain.users import User, ensure_an_admin_remains
from domain.values import Email, PersonName

USER_NOT_FOUND = "No such user."


@dataclass(frozen=True, slots=True)
class NewUser:
    email: str
    name: str
    password: str | None = None
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class UserChanges:
    """Only the fields that are not None change."""

    email: str | None = None
    name: str | None = None
    password: str | None = None
    is_admin: bool | None = None


async def get_user(uow: UnitOfWork, user_id: UUID) -> User:
    user = await uow.users.get(user_id)
    if user is None:
        raise NotFound(USER_NOT_FOUND)
    return user


async def _ensure_email_free(uow: UnitOfWork, email: Email, owner: UUID | None = None) -> None:
    existing = await uow.users.get_by_email(email.key)
    if existing is not None and existing.id != owner:
        raise Conflict("A user with this e-mail already exists.")


class ListUsers:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(
        self,
        actor: Actor,
        *,
        search: str | None = None,
        is_admin: bool | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[User]:
        require_admin(actor)
        check_search(search)
        after = None
        if cursor is not None:
            email_key, raw_id = decode_cursor(cursor, 2)
            try:
                after = (email_key, UUID(raw_id))
            except ValueError as error:
                raise MalformedRequest("The cursor is not valid.") from error
        query = UserListQuery(
            limit=check_limit(limit) + 1,
            search=search.casefold() if search else None,
            is_admin=is_admin,
            after=after,
        )
        async with self._uow.for_reading() as uow:
            users = await uow.users.list(query)
        return page_of(users, limit, lambda last: (last.email.key, str(last.id)))


class CreateUser:
    """Admins register users; without a password a user signs in only through an OpenID Connect provider."""

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, ids: IdGenerator) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._ids = ids

    async def execute(self, actor: Actor, new: NewUser) -> User:
        """``actor`` is an admin, or ``SYSTEM_OPERATOR`` at the command line and the bootstrap at start-up."""
        require_admin(actor)
        problems = Problems()
        email = problems.parse(Email, new.email, "email")
        name = problems.parse(PersonName, new.name, "name")
        if new.password is not None:
            problems.run(lambda: check_password_policy(new.password or ""))
        problems.raise_if_any()
        assert email is not None
        assert name is not None
        password_hash = await self._hasher.hash(new.password) if new.password is not None else None
        now = self._clock.now()
        user = User(
            id=self._ids.new_id(),
            email=email,
            name=name,
            is_admin=new.is_admin,
            created_at=now,
            updated_at=now,
            password_hash=password_hash,
        )
        async with self._uow() as uow:
            await _ensure_email_free(uow, email)
            await uow.users.add(user)
            await uow.commit()
        return user


class BootstrapFirstAdmin:
    """At start-up, create the first admin from configuration, but only while no admin exists."""

    def __init__(self, uow: UnitOfWorkFactory, create_user: CreateUser) -> None:
        self._uow = uow
        self._create_user = create_user

    async def execute(self, email: str, name: str, password: str) -> User | None:
        async with self._uow() as uow:
            if await uow.users.count_active_admins() > 0:
                return None
        return await self._create_user.execute(SYSTEM_OPERATOR, NewUser(email, name, password, is_admin=True))


class GetUser:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, user_id: UUID) -> User:
        require_admin(actor)
        async with self._uow.for_reading() as uow:
            return await get_user(uow, user_id)


class UpdateUser:
    """Admins change a user's e-mail, name, password or admin status.

    A new password ends all of the user's sessions; taking away admin status takes effect on the
    user's next request. The last active admin cannot be demoted.
    """

    def __init__(self, uow: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock, actors: ActorLookup) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock
        self._actors = actors

    async def execute(self, actor: Actor, user_id: UUID, changes: UserChanges) -> User:
        require_admin(actor)
        problems = Problems()
        email = problems.parse(Email, changes.email, "email") if changes.email is not None else None
        name = problems.parse(PersonName, changes.name, "name") if changes.name is not None else None
        if changes.password is not None:
            problems.run(lambda: check_password_policy(changes.password or ""))
        problems.raise_if_any()
        new_hash = await self._hasher.hash(changes.password) if changes.password is not None else None
        async with self._uow() as uow:
            user = await get_user(uow, user_id)
            now = self._clock.now()
            if email is not None and email != user.email:
                await _ensure_email_free(uow, email, owner=user.id)
                user.email = email
            if name is not None:
                user.name = name
            if changes.is_admin is not None and changes.is_admin != user.is_admin:
                if not changes.is_admin:
                    admins = await uow.users.count_active_admins(lock=True)
                    ensure_an_admin_remains(admins - 1)
                user.is_admin = changes.is_admin
            if new_hash is not None:
                user.password_hash = new_hash
                await uow.sign_in_sessions.revoke_all_of_user(user.id, now)
            user.touch(now)
            await uow.users.update(user)
            await uow.commit()
        self._actors.forget_user(user.id)
        return user


class DeleteUser:
    """Deleted users can no longer sign in or use any token, and their e-mail is free again; the
    customers they created or changed keep pointing at them."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, actors: ActorLookup) -> None:
        self._uow = uow
        self._clock = clock
        self._actors = actors

    async def execute(self, actor: Actor, user_id: UUID) -> None:
        require_admin(actor)
        async with self._uow() as uow:
            user = await get_user(uow, user_id)
            if user.is_admin:
                admins = await uow.users.count_active_admins(lock=True)
                ensure_an_admin_remains(admins - 1)
            now = self._clock.now()
            user.delete(now)
            await uow.users.update(user)
            await uow.sign_in_sessions.revoke_all_of_user(user.id, now)
            await uow.commit()
        self._actors.forget_user(user.id)
