"""The sign-in throttle: in memory and in PostgreSQL, the same limits per rule, Retry-After seconds,
windows that end and start again, and forgetting a key."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.access.sign_in_throttle import InMemorySignInThrottle
from adapters.sql.access.sign_in_throttle import SqlSignInThrottle
from adapters.sql.access.user_tables import sign_in_failures
from application.access.sign_in_throttle import ThrottleRule
from application.ports.throttle import SignInThrottle
from domain.errors import TooManyAttempts
from tests.contract.builders import T0

WINDOW = timedelta(minutes=15)
TIGHT = ThrottleRule("account-client:ada@example.com|198.51.100.7", 3, WINDOW)
LOOSE = ThrottleRule("client:198.51.100.7", 5, timedelta(minutes=10))


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.database)])
def throttle(request: pytest.FixtureRequest) -> SignInThrottle:
    if request.param == "memory":
        return InMemorySignInThrottle()
    engine: AsyncEngine = request.getfixturevalue("clean_database")
    return SqlSignInThrottle(engine)


async def fail(throttle: SignInThrottle, rules: list[ThrottleRule], times: int, at: timedelta = timedelta(0)) -> None:
    for _ in range(times):
        await throttle.record_failure(rules, T0 + at)


async def retry_after(throttle: SignInThrottle, rules: list[ThrottleRule], at: timedelta) -> int | None:
    """None when a sign-in may be tried, else the seconds to wait."""
    try:
        await throttle.check(rules, T0 + at)
    except TooManyAttempts as error:
        return error.retry_after
    return None


async def test_a_key_is_refused_at_its_rules_limit_until_its_window_ends(throttle: SignInThrottle) -> None:
    assert await retry_after(throttle, [TIGHT], timedelta(0)) is None
    await fail(throttle, [TIGHT], 2)
    assert await retry_after(throttle, [TIGHT], timedelta(seconds=1)) is None
    await fail(throttle, [TIGHT], 1, at=timedelta(seconds=1))

    # The window started at the first failure: 15 minutes from T0, rounded up to whole seconds.
    assert await retry_after(throttle, [TIGHT], timedelta(seconds=1)) == 899
    assert await retry_after(throttle, [TIGHT], timedelta(seconds=100, milliseconds=500)) == 800
    assert await retry_after(throttle, [TIGHT], WINDOW - timedelta(microseconds=1)) == 1
    assert await retry_after(throttle, [TIGHT], WINDOW) is None


async def test_each_rule_has_its_own_limit_and_the_longest_wait_wins(throttle: SignInThrottle) -> None:
    await fail(throttle, [TIGHT, LOOSE], 3)
    assert await retry_after(throttle, [LOOSE], timedelta(seconds=1)) is None
    assert await retry_after(throttle, [TIGHT, LOOSE], timedelta(seconds=1)) == 899

    await fail(throttle, [LOOSE], 2, at=timedelta(seconds=1))
    assert await retry_after(throttle, [LOOSE], timedelta(seconds=1)) == 599
    assert await retry_after(throttle, [LOOSE, TIGHT], timedelta(seconds=1)) == 899
    # Once the shorter window ended, only the longer one is waited for.
    assert await retry_after(throttle, [TIGHT, LOOSE], timedelta(minutes=10)) == 300
    assert await retry_after(throttle, [LOOSE], timedelta(minutes=10)) is None


async def test_keys_count_apart(throttle: SignInThrottle) -> None:
    other = ThrottleRule("account-client:ada@example.com|203.0.113.9", 3, WINDOW)
    await fail(throttle, [TIGHT], 3)
    assert await retry_after(throttle, [other], timedelta(0)) is None
    await fail(throttle, [other], 2)
    assert await retry_after(throttle, [other], timedelta(0)) is None


async def test_a_failure_after_the_window_ended_starts_a_new_window(throttle: SignInThrottle) -> None:
    await fail(throttle, [TIGHT], 3)
    await fail(throttle, [TIGHT], 1, at=WINDOW)  # the first of a new window, which starts now
    assert await retry_after(throttle, [TIGHT], WINDOW) is None
    await fail(throttle, [TIGHT], 1, at=WINDOW + timedelta(minutes=1))
    assert await retry_after(throttle, [TIGHT], WINDOW + timedelta(minutes=1)) is None
    await fail(throttle, [TIGHT], 1, at=WINDOW + timedelta(minutes=2))
    assert await retry_after(throttle, [TIGHT], WINDOW + timedelta(minutes=2)) == 13 * 60


async def test_failures_within_a_window_add_up_without_moving_it(throttle: SignInThrottle) -> None:
    await fail(throttle, [TIGHT], 1)
    await fail(throttle, [TIGHT], 1, at=timedelta(minutes=5))
    await fail(throttle, [TIGHT], 1, at=timedelta(minutes=14))
    assert await retry_after(throttle, [TIGHT], timedelta(minutes=14)) == 60


async def test_forget_clears_only_the_given_keys(throttle: SignInThrottle) -> None:
    await fail(throttle, [TIGHT, LOOSE], 5)
    await throttle.forget([TIGHT.key, "never-seen"])
    assert await retry_after(throttle, [TIGHT], timedelta(0)) is None
    assert await retry_after(throttle, [LOOSE], timedelta(0)) == 600
    # A forgotten key starts from nothing.
    await fail(throttle, [TIGHT], 2, at=timedelta(minutes=1))
    assert await retry_after(throttle, [TIGHT], timedelta(minutes=1)) is None
    await throttle.forget([])


async def test_concurrent_failures_are_all_counted(throttle: SignInThrottle) -> None:
    rule = ThrottleRule("account:ada@example.com", 20, WINDOW)
    await asyncio.gather(*(throttle.record_failure([rule], T0) for _ in range(20)))
    assert await retry_after(throttle, [rule], timedelta(0)) == 900
    assert await retry_after(throttle, [ThrottleRule(rule.key, 21, WINDOW)], timedelta(0)) is None


@pytest.mark.database
async def test_postgres_deletes_rows_whose_window_ended_long_ago(clean_database: AsyncEngine) -> None:
    throttle = SqlSignInThrottle(clean_database, retention=timedelta(hours=1), cleanup_one_in=1)
    old, recent = ThrottleRule("old", 3, WINDOW), ThrottleRule("recent", 3, WINDOW)
    await fail(throttle, [old], 3)
    await fail(throttle, [recent], 3, at=timedelta(minutes=50))

    # The next failure, an hour and a bit after the old key's window started, cleans up.
    await fail(throttle, [ThrottleRule("now", 3, WINDOW)], 1, at=timedelta(hours=1, seconds=1))

    async with clean_database.connect() as connection:
        keys: set[str] = set((await connection.execute(select(sign_in_failures.c.key))).scalars())
    assert keys == {"recent", "now"}
    assert await throttle.delete_expired(T0 + timedelta(days=1)) == 2
    async with clean_database.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(sign_in_failures))).scalar_one() == 0
