"""API tests: real HTTP requests to the real application on PostgreSQL.

The server runs in its own thread and event loop, like a replica; the tests seed users through a
second container on the same database, like a second replica would.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from application.access.users import NewUser
from crm.app import create_app
from crm.container import Application, build_container
from crm.settings import Settings
from domain.sign_in import SYSTEM_OPERATOR
from domain.users import User
from tests.service.api.helpers import PASSWORD, SignedIn, sign_in
from tests.service.api.server import serve_in_thread


def make_settings(database_url: str, photo_dir: Path, public_url: str = "http://127.0.0.1") -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        public_url=public_url,
        photo_dir=photo_dir,
        secret_key="test-secret-" + "x" * 40,
        # Cheap hashing keeps the suite fast; production parameters are tested in the hasher's own tests.
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
        cors_origins=("https://crm.example.com",),
        # The suite makes many requests as one caller; fair use has servers of its own (test_fair_use.py).
        rate_limit_requests=0,
    )


@pytest.fixture(scope="session")
def photo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("photos")


@pytest.fixture(scope="session")
def settings(database_url: str, photo_dir: Path) -> Settings:
    return make_settings(database_url, photo_dir)


@pytest.fixture(scope="session")
def base_url(settings: Settings) -> Iterator[str]:
    with serve_in_thread(lambda url: create_app(settings.replace(public_url=url))) as url:
        yield url


@pytest.fixture(scope="session")
async def seeding(settings: Settings) -> AsyncIterator[Application]:
    container = build_container(settings)
    yield container
    await container.adapters.engine().dispose()


@pytest.fixture
def client(base_url: str, clean_database: None, photo_dir: Path) -> Iterator[httpx.Client]:
    # Each test starts with no rows and no stored photos.
    for path in sorted(photo_dir.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@dataclass
class Accounts:
    """Creates users straight through the use case, then signs them in over HTTP."""

    container: Application
    client: httpx.Client

    async def user(self, *, admin: bool = False, name: str = "Test User", email: str | None = None) -> User:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        return await self.container.create_user().execute(
            SYSTEM_OPERATOR, NewUser(email, name, PASSWORD, is_admin=admin)
        )

    async def signed_in(self, *, admin: bool = False, name: str = "Test User") -> SignedIn:
        user = await self.user(admin=admin, name=name)
        return sign_in(self.client, user.email)


@pytest.fixture
def accounts(seeding: Application, client: httpx.Client) -> Accounts:
    return Accounts(seeding, client)


@pytest.fixture
async def admin(accounts: Accounts) -> SignedIn:
    return await accounts.signed_in(admin=True, name="Alice Admin")


@pytest.fixture
async def clerk(accounts: Accounts) -> SignedIn:
    return await accounts.signed_in(name="Bob Clerk")
