"""Use-case tests run on the in-memory adapters: the same container as production, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from application.access.users import NewUser
from crm.container import Application, build_container
from crm.settings import Settings
from domain.sign_in import SYSTEM_OPERATOR, Actor
from domain.users import User
from tests.support.clock import ManualClock

PASSWORD = "correct horse battery staple 42"


@dataclass
class Core:
    """The use cases on in-memory adapters, with a clock the test controls."""

    app: Application
    clock: ManualClock

    async def user(self, email: str = "clerk@example.com", *, admin: bool = False, name: str = "Clerk") -> User:
        return await self.app.create_user().execute(SYSTEM_OPERATOR, NewUser(email, name, PASSWORD, is_admin=admin))

    async def actor(self, user: User) -> Actor:
        pair = await self.app.sign_in_with_password().execute(user.email, PASSWORD)
        return await self.app.authenticate().execute(pair.access_token)


@pytest.fixture
def core() -> Core:
    settings = Settings(
        environment="test",
        secret_key="unit-test-secret-" + "z" * 32,
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
    )
    app = build_container(settings, in_memory=True)
    clock = ManualClock()
    app.clock.override(clock)
    return Core(app, clock)
