"""Users in memory."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from uuid import UUID

from adapters.memory.outbox import record_user_event
from adapters.memory.transaction import Transaction
from application.ports.persistence import UserListQuery, UserRepository
from domain.errors import Conflict
from domain.users import User

DUPLICATE_EMAIL = "A user with this e-mail already exists."


class InMemoryUserRepository(UserRepository):
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def add(self, user: User) -> None:
        tables = await self._transaction.writable()
        if user.id in tables.users:
            raise ValueError(f"user {user.id} exists already")
        self._check_email_free(tables.users.values(), user)
        tables.users[user.id] = replace(user)
        record_user_event(tables, None, user)

    async def get(self, user_id: UUID) -> User | None:
        user = self._transaction.readable().users.get(user_id)
        return replace(user) if user is not None and user.is_active else None

    async def get_by_email(self, email_key: str) -> User | None:
        for user in self._transaction.readable().users.values():
            if user.is_active and user.email.key == email_key:
                return replace(user)
        return None

    async def update(self, user: User) -> None:
        tables = await self._transaction.writable()
        if user.id in tables.users:
            self._check_email_free(tables.users.values(), user)
            before = tables.users[user.id]
            tables.users[user.id] = replace(user)
            # What migration 0004's trigger does after every user change.
            record_user_event(tables, before, user)

    async def count_active_admins(self, *, lock: bool = False) -> int:
        tables = await self._transaction.writable() if lock else self._transaction.readable()
        return sum(1 for user in tables.users.values() if user.is_admin and user.is_active)

    async def list(self, query: UserListQuery) -> list[User]:
        search = query.search.casefold() if query.search else None
        found = [
            user
            for user in self._transaction.readable().users.values()
            if user.is_active
            and (query.is_admin is None or user.is_admin == query.is_admin)
            # lower(), as the SQL adapter's lower(name), rather than casefold().
            and (search is None or search in user.email.key or search in user.name.lower())
            and (query.after is None or (user.email.key, user.id) > query.after)
        ]
        found.sort(key=lambda user: (user.email.key, user.id))
        return [replace(user) for user in found[: query.limit]]

    @staticmethod
    def _check_email_free(others: Iterable[User], user: User) -> None:
        """Active e-mails are unique, as the SQL adapter's partial unique index makes them."""
        if not user.is_active:
            return
        for other in others:
            if other.id != user.id and other.is_active and other.email.key == user.email.key:
                raise Conflict(DUPLICATE_EMAIL)
