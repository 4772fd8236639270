"""A caller's quota holds across replicas (api.md, "Fair use"): twice the quota sent round-robin to two ``crm serve``
processes gets the quota, and not a quarter more, though neither asks the other on a request; and an API key's daily
quota holds across a rollout, the process that counted it stopped and a new one started."""

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


DAILY_QUOTA = 3
# A daily quota small enough to spend, and a burst quota that plays no part.
DAILY = {
    "CRM_RATE_LIMIT_REQUESTS": "1000",
    "CRM_RATE_LIMIT_WINDOW_SECONDS": "10",
    "CRM_API_KEY_DAILY_QUOTA": str(DAILY_QUOTA),
}


def _new_key(replica: Replica, admin_token: str, name: str) -> str:
    made = replica.client.post(
        "/api/v1/api-keys",
        json={"name": name, "scopes": ["customers:read"]},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


async def test_an_api_keys_day_survives_the_process_that_counted_it(
    database_url: str, tmp_path: Path, accounts: Accounts, engine: AsyncEngine
) -> None:
    admin = await accounts.create(admin=True)
    first = start_replica("first", database_url, tmp_path, DAILY)
    try:
        wait_until_ready(first, time.monotonic() + START_TIMEOUT)
        signed_in = first.sign_in(admin, PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        spent = _new_key(first, signed_in.json()["access_token"], "Spent")
        begun = _new_key(first, signed_in.json()["access_token"], "Begun")
        answers = [first.get("/api/v1/customers", spent) for _ in range(DAILY_QUOTA + 1)]
        assert [answer.status_code for answer in answers] == [200] * DAILY_QUOTA + [429]
        assert answers[-1].json()["violated-policies"] == ["daily"]
        assert first.get("/api/v1/customers", begun).status_code == 200
    finally:
        # Stopped at once, within the second after its last requests: it reports them as it leaves.
        stop_replica(first)
    # The rollout comes an hour later: what the first process reported is moved back an hour (60 slots), so that
    # only the history can tell it, not the exchange of the last two slots that every process reads.
    async with engine.begin() as connection:
        moved = await connection.execute(text("UPDATE rate_limit_admissions SET slot = slot - 60"))
    assert moved.rowcount >= 2

    # The next process starts after the first has gone, and knows what the keys spent.
    later = start_replica("later", database_url, tmp_path, DAILY)
    try:
        wait_until_ready(later, time.monotonic() + START_TIMEOUT)
        refused = later.get("/api/v1/customers", spent)
        assert refused.status_code == 429, refused.text
        assert refused.json()["violated-policies"] == ["daily"]
        # A request comes back every 8 hours: the first of those spent an hour ago, in 7.
        assert 6 * 3_600 < int(refused.headers["retry-after"]) <= 7 * 3_600 + 60
        assert [later.get("/api/v1/customers", begun).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        stop_replica(later)
