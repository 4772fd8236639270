"""The fleet of the release tests: one fresh database that HEAD's ``crm migrate`` migrated, the previous release
installed from previous_release.toml, and each release serving it in a process of its own."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.releases.installation import HEAD, Release, ReleaseUnavailable, configured_commit, install
from tests.releases.scenario.caller import Credentials
from tests.releases.serving import Fleet, Server, create_admin, run_command, serving
from tests.support.database import create_database, drop_database, url_of_database
from tests.support.tools import tool_missing


@pytest.fixture(scope="session")
def previous_release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    try:
        return install(configured_commit(), tmp_path_factory.mktemp("previous-release"))
    except ReleaseUnavailable as missing:
        tool_missing(missing.what, missing.how_to_get_it)


@pytest.fixture(scope="module")
async def fleet(postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fleet]:
    name = await create_database(postgres_server_url, "crm_releases")
    try:
        work_dir = tmp_path_factory.mktemp("fleet")
        (work_dir / "photos").mkdir()
        database_url = url_of_database(postgres_server_url, name, driver="postgresql")
        fleet = Fleet(database_url, secrets.token_urlsafe(48), work_dir / "photos", work_dir)
        # What the pipeline runs before the rollout: HEAD's `crm migrate`, the expand phase.
        await asyncio.to_thread(run_command, HEAD, fleet, "migrate")
        yield fleet
    finally:
        await drop_database(postgres_server_url, name)


@pytest.fixture(scope="module")
def admin(previous_release: Release, fleet: Fleet) -> Credentials:
    """The first admin, made by the previous release's own command line on the new schema."""
    credentials = Credentials(f"admin.{secrets.token_hex(4)}@example.com", "an admin of two releases 9")
    create_admin(previous_release, fleet, credentials.email, "Alice Admin", credentials.password)
    return credentials


@pytest.fixture(scope="module")
def previous_server(previous_release: Release, fleet: Fleet) -> Iterator[Server]:
    with serving(previous_release, fleet) as server:
        yield server


@pytest.fixture(scope="module")
def head_server(fleet: Fleet) -> Iterator[Server]:
    with serving(HEAD, fleet) as server:
        yield server
