"""Idempotency records on every adapter: one claim wins, the answer is kept, a day later the key is free."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from application.ports.idempotency import IdempotencyRecord, StoredAnswer
from tests.contract.builders import T0, Backend

DAY_AGO = T0 - timedelta(hours=24)
ANSWER = StoredAnswer(201, {"location": "/api/v1/customers/C-1", "etag": '"1.abc"'}, b'{"id":"C-1"}')


async def test_the_first_claim_wins_and_its_answer_is_kept(backend: Backend) -> None:
    records = backend.idempotency
    assert await records.claim("user-1", "key-1", "fp-a", T0, DAY_AGO) is None
    assert await records.claim("user-1", "key-1", "fp-a", T0, DAY_AGO) == IdempotencyRecord("fp-a", None)
    # Keys are per caller.
    assert await records.claim("user-2", "key-1", "fp-b", T0, DAY_AGO) is None

    await records.complete("user-1", "key-1", ANSWER)

    assert await records.claim("user-1", "key-1", "fp-other", T0, DAY_AGO) == IdempotencyRecord("fp-a", ANSWER)


async def test_of_many_simultaneous_claims_one_wins(backend: Backend) -> None:
    results = await asyncio.gather(*(backend.idempotency.claim("user-1", "key", "fp", T0, DAY_AGO) for _ in range(10)))
    assert results.count(None) == 1


async def test_a_released_claim_and_an_expired_record_free_the_key(backend: Backend) -> None:
    records = backend.idempotency
    assert await records.claim("user-1", "key", "fp", T0, DAY_AGO) is None
    await records.release("user-1", "key")
    assert await records.claim("user-1", "key", "fp", T0, DAY_AGO) is None
    await records.complete("user-1", "key", ANSWER)
    await records.release("user-1", "key")  # a finished record stays
    assert (await records.claim("user-1", "key", "fp", T0, DAY_AGO)) == IdempotencyRecord("fp", ANSWER)

    later = T0 + timedelta(hours=24, seconds=1)
    assert await records.claim("user-1", "key", "fp-new", later, later - timedelta(hours=24)) is None

    assert await records.claim("user-9", "old", "fp", T0, DAY_AGO) is None
    assert await records.sweep(T0 + timedelta(seconds=1)) == 1  # user-9's; user-1's is newer
    assert await records.claim("user-9", "old", "fp-2", T0, DAY_AGO) is None
