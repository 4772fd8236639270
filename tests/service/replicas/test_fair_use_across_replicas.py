"""A caller's quota holds across two replicas (api.md, "Fair use"): twice the quota sent round-robin to two
``crm serve`` processes gets the quota, and not a quarter more, though neither asks the other on a request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.service.api.helpers import PASSWORD
from tests.service.replicas.conftest import (
    START_TIMEOUT,
    Accounts,
    Replica,
    start_replica,
    stop_replica,
    wait_until_ready,
)

QUOTA = 20
# Long against the test: nothing is given back while it runs, so the counts are exact.
WINDOW = 600
LIMITED = {"CRM_RATE_LIMIT_REQUESTS": str(QUOTA), "CRM_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW)}


@pytest.fixture(scope="module")
def limited_replicas(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, Replica]]:
    folder: Path = tmp_path_factory.mktemp("limited-replicas")
    started: list[Replica] = []
    try:
        for name in ("a", "b"):
            started.append(start_replica(name, database_url, folder, LIMITED))
        deadline = time.monotonic() + START_TIMEOUT
        for replica in started:
            wait_until_ready(replica, deadline)
        yield started[0], started[1]
    finally:
        for replica in started:
            stop_replica(replica)


async def until_both_know_each_other(engine: AsyncEngine) -> None:
    deadline = time.monotonic() + 20
    while True:
        async with engine.connect() as connection:
            live = await connection.scalar(
                text("SELECT count(*) FROM rate_limit_replicas WHERE seen_at > now() - interval '2 seconds'")
            )
        if live == 2:
            break
        assert time.monotonic() < deadline, f"{live} replicas exchange, not 2"
        await asyncio.sleep(0.1)
    # Each has exchanged once more since both were live: each knows the other.
    await asyncio.sleep(1.5)


async def test_twice_the_quota_round_robin_gets_at_most_a_quarter_more(
    limited_replicas: tuple[Replica, Replica], accounts: Accounts, engine: AsyncEngine
) -> None:
    a, b = limited_replicas
    email = await accounts.create()
    await until_both_know_each_other(engine)
    signed_in = a.sign_in(email, PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]

    answers = [(a, b)[number % 2].get("/api/v1/customers", token) for number in range(2 * QUOTA)]

    admitted = sum(answer.status_code == 200 for answer in answers)
    assert QUOTA <= admitted <= QUOTA * 1.25, [answer.status_code for answer in answers]
    for answer in answers:
        if answer.status_code != 200:
            assert answer.status_code == 429, answer.text
            assert answer.json()["violated-policies"] == ["burst"]
            assert int(answer.headers["retry-after"]) >= 1
        assert answer.headers["ratelimit-policy"] == f'"burst";q={QUOTA};w={WINDOW}'
    # Both replicas admitted some: the quota was shared, not taken by one.
    assert {answer.request.url.port for answer in answers if answer.status_code == 200} == {
        int(a.base_url.rpartition(":")[2]),
        int(b.base_url.rpartition(":")[2]),
    }
