"""The replicas' exchange of admitted requests, in memory and in PostgreSQL: totals replace, the others' are summed
per caller and slot, a replica never hears its own, old slots go; and two limiters sharing one exchange keep a
caller within its quota when its requests go round-robin."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.access.admission_exchange import InMemoryAdmissionExchange
from adapters.sql.access.admission_exchange import SqlAdmissionExchange
from adapters.system.clock import SystemClock
from application.access.admission_sync import AdmissionSync
from application.access.limiter import USER_CALLER, Limiter
from application.ports.admissions import AdmissionExchange
from domain.rate_limits import Policy

ADA = USER_CALLER + "ada"
BOB = USER_CALLER + "bob"


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.database)])
def exchange(request: pytest.FixtureRequest) -> AdmissionExchange:
    if request.param == "memory":
        return InMemoryAdmissionExchange(SystemClock())
    engine: AsyncEngine = request.getfixturevalue("clean_database")
    return SqlAdmissionExchange(engine)


async def test_a_replica_hears_the_others_totals_summed_and_never_its_own(exchange: AdmissionExchange) -> None:
    alone = await exchange.exchange("a", {(ADA, 10): 3}, since_slot=10)
    assert alone.replicas == 1
    assert dict(alone.admitted) == {}
    await exchange.exchange("b", {(ADA, 10): 4, (BOB, 10): 1}, since_slot=10)
    heard = await exchange.exchange("c", {(ADA, 10): 100}, since_slot=10)
    assert heard.replicas == 3
    assert dict(heard.admitted) == {(ADA, 10): 7, (BOB, 10): 1}


async def test_a_replica_that_leaves_is_no_longer_live(exchange: AdmissionExchange) -> None:
    await exchange.exchange("a", {}, since_slot=10)
    await exchange.exchange("b", {}, since_slot=10)
    await exchange.leave("a")
    assert (await exchange.exchange("b", {}, since_slot=10)).replicas == 1


async def test_a_later_total_replaces_the_earlier_one(exchange: AdmissionExchange) -> None:
    await exchange.exchange("a", {(ADA, 10): 3}, since_slot=10)
    await exchange.exchange("a", {(ADA, 10): 5}, since_slot=10)
    heard = await exchange.exchange("b", {}, since_slot=10)
    assert dict(heard.admitted) == {(ADA, 10): 5}


async def test_slots_before_the_one_asked_for_are_left_out_and_old_ones_forgotten(exchange: AdmissionExchange) -> None:
    await exchange.exchange("a", {(ADA, 8): 2, (ADA, 9): 3, (ADA, 10): 4}, since_slot=8)
    assert dict((await exchange.exchange("b", {}, since_slot=9)).admitted) == {(ADA, 9): 3, (ADA, 10): 4}
    await exchange.forget_before(10)
    assert dict((await exchange.exchange("b", {}, since_slot=0)).admitted) == {(ADA, 10): 4}


class Ticks:
    """Monotonic seconds that move only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_two_replicas_round_robin_admit_the_quota_and_not_a_quarter_more(exchange: AdmissionExchange) -> None:
    ticks = Ticks()
    quota = 40
    limiters = [Limiter(Policy("burst", quota, 600), Policy("daily", 10_000, 86_400), clock=ticks) for _ in "ab"]
    syncs = [
        AdmissionSync(limiter, exchange, SystemClock(), replica=name, monotonic=ticks)
        for limiter, name in zip(limiters, "ab", strict=True)
    ]
    for sync in syncs:
        await sync.exchange_once()
    for sync in syncs:  # both now know there are two of them
        await sync.exchange_once()
    admitted = 0
    # Twice the quota, round-robin, with an exchange every 10 requests (about a second of a busy caller).
    for number, limiter in zip(range(2 * quota), itertools.cycle(limiters), strict=False):
        admitted += limiter.admit(ADA).admitted
        if number % 10 == 9:
            for sync in syncs:
                await sync.exchange_once()
        ticks.now += 0.01
    assert quota <= admitted <= quota * 1.25
