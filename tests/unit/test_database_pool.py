"""The pool's front door and its TLS mode: fair turns with a bounded wait, and TLS only where the URL asks."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from adapters.sql.engine import async_database_url, ssl_mode
from adapters.sql.unit_of_work import ConnectionTurns
from domain.errors import ServiceUnavailable


async def test_a_request_waits_for_a_turn_at_most_the_timeout_then_gets_a_503() -> None:
    turns = ConnectionTurns(1, timeout=0.05)
    await turns.take()
    with pytest.raises(ServiceUnavailable):
        await turns.take()
    turns.give_back()
    await turns.take()  # the turn given back is free again


async def test_turns_are_given_in_the_order_they_were_asked_for() -> None:
    turns = ConnectionTurns(1, timeout=5)
    await turns.take()
    served: list[int] = []

    async def request(number: int) -> None:
        await turns.take()
        served.append(number)
        await asyncio.sleep(0)
        turns.give_back()

    waiting = [asyncio.create_task(request(number)) for number in range(5)]
    await asyncio.sleep(0)
    turns.give_back()
    # A newcomer arriving while others wait queues behind them instead of taking the returned turn.
    late = asyncio.create_task(request(99))
    await asyncio.gather(*waiting, late)
    assert served == [0, 1, 2, 3, 4, 99]


async def test_a_waiter_that_gives_up_takes_no_turn_and_a_timed_out_one_leaves_the_queue() -> None:
    turns = ConnectionTurns(1, timeout=0.05)
    await turns.take()
    abandoned = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    with pytest.raises(ServiceUnavailable):  # waits its timeout behind nobody, then 503
        await turns.take()
    turns.give_back()
    await turns.take()  # the one turn is free again: neither the cancelled nor the timed-out waiter kept it
    late = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    turns.give_back()
    await late


@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("postgresql://crm@127.0.0.1:5432/crm", "disable"),
        ("postgresql://crm@localhost/crm", "disable"),
        ("postgresql://crm@/crm?host=/var/run/postgresql", "disable"),
        ("postgresql://crm@db.example.com/crm", "prefer"),
        ("postgresql://crm@127.0.0.1/crm?sslmode=require", "require"),
        ("postgres://crm@db.example.com/crm?sslmode=verify-full", "verify-full"),
        ("postgresql+asyncpg://crm@db.example.com/crm?ssl=disable", "disable"),
    ],
)
def test_the_tls_mode_is_the_urls_and_a_local_database_gets_no_tls_attempt(database_url: str, expected: str) -> None:
    assert ssl_mode(make_url(database_url)) == expected
    converted = make_url(async_database_url(database_url))
    assert converted.drivername == "postgresql+asyncpg"
    assert converted.query["ssl"] == expected
    assert "sslmode" not in converted.query
