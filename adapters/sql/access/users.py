"""Users in PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.access.user_tables import users
from adapters.sql.errors import domain_errors
from adapters.sql.rows import LIKE_ESCAPE, contains_pattern, trusted
from application.ports.persistence import UserListQuery, UserRepository
from domain.users import User
from domain.values import Email, PersonName

_ACTIVE = users.c.deleted_at.is_(None)
_ACTIVE_ADMIN = (users.c.is_admin.is_(True), _ACTIVE)


def _values(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "email_key": user.email.key,
        "name": user.name,
        "password_hash": user.password_hash,
        "is_admin": user.is_admin,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "version": user.version,
        "deleted_at": user.deleted_at,
    }


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        email=trusted(Email, row.email),
        name=trusted(PersonName, row.name),
        is_admin=row.is_admin,
        created_at=row.created_at,
        updated_at=row.updated_at,
        password_hash=row.password_hash,
        version=row.version,
        deleted_at=row.deleted_at,
    )


class SqlUserRepository(UserRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, user: User) -> None:
        with domain_errors():
            await self._connection.execute(insert(users).values(id=user.id, **_values(user)))

    async def get(self, user_id: UUID) -> User | None:
        result = await self._connection.execute(select(users).where(users.c.id == user_id, _ACTIVE))
        row = result.one_or_none()
        return None if row is None else _user(row)

    async def get_by_email(self, email_key: str) -> User | None:
        result = await self._connection.execute(select(users).where(users.c.email_key == email_key, _ACTIVE))
        row = result.one_or_none()
        return None if row is None else _user(row)

    async def update(self, user: User) -> None:
        with domain_errors():
            await self._connection.execute(update(users).where(users.c.id == user.id).values(**_values(user)))

    async def count_active_admins(self, *, lock: bool = False) -> int:
        if not lock:
            result = await self._connection.execute(select(func.count()).select_from(users).where(*_ACTIVE_ADMIN))
            return int(result.scalar_one())
        # Aggregates cannot be locked: lock the rows and count them here. A concurrent demotion
        # waits until this transaction ends, then re-reads the rows and sees this one's change.
        rows = await self._connection.execute(select(users.c.id).where(*_ACTIVE_ADMIN).with_for_update())
        return len(rows.all())

    async def list(self, query: UserListQuery) -> list[User]:
        statement = select(users).where(_ACTIVE)
        if query.is_admin is not None:
            statement = statement.where(users.c.is_admin.is_(query.is_admin))
        if query.search:
            pattern = contains_pattern(query.search.casefold())
            statement = statement.where(
                or_(
                    users.c.email_key.like(pattern, escape=LIKE_ESCAPE),
                    func.lower(users.c.name).like(pattern, escape=LIKE_ESCAPE),
                )
            )
        if query.after is not None:
            statement = statement.where(tuple_(users.c.email_key, users.c.id) > tuple_(*query.after))
        statement = statement.order_by(users.c.email_key, users.c.id).limit(query.limit)
        result = await self._connection.execute(statement)
        return [_user(row) for row in result]
