"""The replicas' exchange of admitted requests, in memory and in PostgreSQL: totals replace, the others' are summed
per caller and slot, a replica never hears its own, old slots go (API keys' after a day); a starting replica reads
the history of live and gone replicas alike; two limiters sharing one exchange keep a caller within its quota when
its requests go round-robin, and a process that starts after another stopped is held to the key's daily quota."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.access.admission_exchange import InMemoryAdmissionExchange
from adapters.sql.access.admission_exchange import SqlAdmissionExchange
from adapters.system.clock import SystemClock
from application.access.admission_sync import AdmissionSync
from application.access.limiter import API_KEY_CALLER, USER_CALLER, Limiter
from application.ports.admissions import SLOT_SECONDS, AdmissionExchange, Retention
from domain.rate_limits import Policy
from tests.support.clock import ManualClock

ADA = USER_CALLER + "ada"
BOB = USER_CALLER + "bob"
KEY = API_KEY_CALLER + "shop-sync"


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
    await exchange.forget(Retention(kept_from=10, longer_for=API_KEY_CALLER, longer_from=10))
    assert dict((await exchange.exchange("b", {}, since_slot=0)).admitted) == {(ADA, 10): 4}


async def test_api_keys_totals_are_kept_longer_than_the_others(exchange: AdmissionExchange) -> None:
    await exchange.exchange("a", {(ADA, 100): 1, (ADA, 200): 2, (KEY, 50): 3, (KEY, 100): 4, (KEY, 200): 5}, 0)
    await exchange.forget(Retention(kept_from=150, longer_for=API_KEY_CALLER, longer_from=60))
    assert dict(await exchange.history("b", 0, exact_from=0, bucket=15)) == {
        (ADA, 200): 2,
        (KEY, 100): 4,
        (KEY, 200): 5,
    }


async def test_the_history_holds_every_other_replica_live_or_gone(exchange: AdmissionExchange) -> None:
    await exchange.exchange("a", {(KEY, 5): 2, (KEY, 9): 1, (ADA, 9): 3}, since_slot=9)
    await exchange.leave("a")
    await exchange.exchange("b", {(KEY, 9): 4, (KEY, 3): 7}, since_slot=9)
    await exchange.exchange("c", {(KEY, 9): 100}, since_slot=9)
    assert dict(await exchange.history("c", 5, exact_from=5, bucket=15)) == {(KEY, 5): 2, (KEY, 9): 5, (ADA, 9): 3}
    # Reading it reports nothing and marks nobody live.
    assert (await exchange.exchange("d", {}, since_slot=9)).replicas == 3


async def test_the_history_before_the_exact_slots_comes_in_buckets(exchange: AdmissionExchange) -> None:
    await exchange.exchange("a", {(KEY, 29): 1, (KEY, 30): 2, (KEY, 44): 3, (KEY, 45): 4, (KEY, 46): 5}, 0)
    await exchange.exchange("b", {(KEY, 31): 10, (ADA, 46): 6}, 0)
    history = await exchange.history("c", 30, exact_from=46, bucket=15)
    # Slot 29 is before the history; 30 to 44 is one bucket; 45 the first of the next, cut short by the exact ones.
    assert dict(history) == {(KEY, 30): 15, (KEY, 45): 4, (KEY, 46): 5, (ADA, 46): 6}


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


async def test_a_process_that_starts_after_another_stopped_is_held_to_the_keys_day(exchange: AdmissionExchange) -> None:
    # A daily quota of 4, back one every 6 hours; a burst quota that plays no part.
    burst, daily = Policy("burst", 1_000, 10), Policy("daily", 4, 86_400)
    clock = ManualClock()
    ticks = Ticks()

    def started(name: str) -> tuple[Limiter, AdmissionSync]:
        limiter = Limiter(burst, daily, clock=ticks)
        return limiter, AdmissionSync(limiter, exchange, clock, replica=name, monotonic=ticks)

    first, first_sync = started("first")
    await first_sync.exchange_once()
    assert [first.admit(KEY).admitted for _ in range(5)] == [True] * 4 + [False]
    await first_sync.leave()  # reports what it admitted since its last exchange

    # Seven hours later (slots meanwhile forgotten by the others as they go), one request of four is back.
    clock.advance(timedelta(hours=7))
    ticks.now += 7 * 3_600
    later, later_sync = started("later")
    slot = int(clock.now().timestamp() // SLOT_SECONDS)
    # Kept: the burst window's slot and one more, and an API key's day and one more.
    assert later_sync.retention(slot) == Retention(slot - 2, API_KEY_CALLER, slot - 1_441)
    await exchange.forget(later_sync.retention(slot))
    await later_sync.exchange_once()
    verdicts = [later.admit(KEY) for _ in range(2)]
    assert [verdict.admitted for verdict in verdicts] == [True, False]
    assert verdicts[1].violated == ("daily",)
