"""Entities for the contract tests, and small helpers to store them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

from application.ports.customer_events import CustomerEventFeed
from application.ports.idempotency import IdempotencyRecords
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.security import ActorLookup
from application.ports.webhooks import DeliveryQueue
from domain.customers import Customer, CustomerDetails
from domain.sign_in import RefreshToken, SignInSession
from domain.users import User
from domain.values import CustomerId, Email, PersonName

T = TypeVar("T")

# Microseconds on purpose: the database must keep them.
T0 = datetime(2026, 11, 23, 20, 0, 0, 123456, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Backend:
    uow: UnitOfWorkFactory
    actors: ActorLookup
    # The webhook outbox's queue on the same store.
    queue: DeliveryQueue
    idempotency: IdempotencyRecords
    # The live changes' event feed on the same store.
    events: CustomerEventFeed


def make_user(email: str, name: str = "Some User", *, is_admin: bool = False, at: datetime = T0) -> User:
    return User(
        id=uuid4(),
        email=Email(email),
        name=PersonName(name),
        is_admin=is_admin,
        created_at=at,
        updated_at=at,
        password_hash="$argon2id$not-a-real-hash",
    )


def make_customer(
    customer_id: str,
    name: str,
    surname: str,
    *,
    by: User,
    at: datetime = T0,
    email: str | None = None,
) -> Customer:
    details = CustomerDetails(PersonName(name), PersonName(surname), Email(email) if email else None)
    return Customer.register(CustomerId(customer_id), details, by=by.ref, at=at)


def make_session(user: User, *, at: datetime = T0, lifetime: timedelta = timedelta(days=30)) -> SignInSession:
    return SignInSession(id=uuid4(), user_id=user.id, created_at=at, expires_at=at + lifetime)


def make_token(session: SignInSession, token_hash: str, *, at: datetime = T0) -> RefreshToken:
    return RefreshToken(token_hash=token_hash, session_id=session.id, issued_at=at, expires_at=at + timedelta(days=14))


async def save_users(backend: Backend, *users: User) -> None:
    async with backend.uow() as uow:
        for user in users:
            await uow.users.add(user)
        await uow.commit()


async def save_customers(backend: Backend, *customers: Customer) -> None:
    async with backend.uow() as uow:
        for customer in customers:
            await uow.customers.add(customer)
        await uow.commit()


async def read(backend: Backend, action: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``action`` in a unit of work of its own that commits nothing."""
    async with backend.uow() as uow:
        return await action(uow)


@dataclass(slots=True)
class LockRace:
    """Two units of work take the same lock; records what each saw and in which order."""

    events: list[str]
    seen: dict[str, Any]


async def race_for_lock(
    backend: Backend,
    lock: Callable[[UnitOfWork], Awaitable[Any]],
    change: Callable[[UnitOfWork, Any], Awaitable[None]],
    hold_seconds: float = 0.3,
) -> LockRace:
    """The first unit of work takes the lock, holds it a while, changes something and commits;
    the second asks for the lock while the first holds it. With a working lock, the second gets
    it only once the first commits, and sees the change."""
    race = LockRace(events=[], seen={})
    first_has_lock = asyncio.Event()

    async def first() -> None:
        async with backend.uow() as uow:
            race.seen["first"] = await lock(uow)
            race.events.append("first locked")
            first_has_lock.set()
            await asyncio.sleep(hold_seconds)
            await change(uow, race.seen["first"])
            race.events.append("first commits")
            await uow.commit()

    async def second() -> None:
        await first_has_lock.wait()
        async with backend.uow() as uow:
            race.seen["second"] = await lock(uow)
            race.events.append("second locked")

    await asyncio.wait_for(asyncio.gather(first(), second()), timeout=10)
    return race
