"""The Idempotency-Key rules, in memory: replay, another body, a request still running, refusals not kept."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.security.answer_seal import AesGcmAnswerSeal
from application.idempotency import KEEP_FOR, IdempotentRequests, fingerprint
from application.ports.idempotency import StoredAnswer
from domain.errors import Conflict, InvalidInput, MalformedRequest
from tests.support.clock import ManualClock

ANSWER = StoredAnswer(201, {"location": "/x/1"}, b"{}")


def _requests(wait_seconds: float = 0.3, records: InMemoryIdempotencyRecords | None = None) -> IdempotentRequests:
    records = records if records is not None else InMemoryIdempotencyRecords()
    return IdempotentRequests(records, ManualClock(), AesGcmAnswerSeal(b"s3cret"), wait_seconds=wait_seconds)


async def test_the_same_request_gets_the_first_answer_again() -> None:
    requests, calls = _requests(), []

    async def produce() -> StoredAnswer:
        calls.append(1)
        return ANSWER

    assert await requests.run("u", "k", "fp", produce) == (ANSWER, False)
    assert await requests.run("u", "k", "fp", produce) == (ANSWER, True)
    assert calls == [1]


async def test_another_body_with_the_same_key_is_refused() -> None:
    requests = _requests()

    async def produce() -> StoredAnswer:
        return ANSWER

    await requests.run("u", "k", fingerprint("POST", "/a", b"1"), produce)
    with pytest.raises(InvalidInput):
        await requests.run("u", "k", fingerprint("POST", "/a", b"2"), produce)


async def test_a_repeat_while_the_first_runs_waits_then_gets_409() -> None:
    requests, release = _requests(wait_seconds=0.2), asyncio.Event()

    async def slow() -> StoredAnswer:
        await release.wait()
        return ANSWER

    first = asyncio.create_task(requests.run("u", "k", "fp", slow))
    await asyncio.sleep(0.01)
    with pytest.raises(Conflict):
        await requests.run("u", "k", "fp", slow)
    waiting = asyncio.create_task(requests.run("u", "k", "fp", slow))
    release.set()
    assert await first == (ANSWER, False)
    assert await waiting == (ANSWER, True)


async def test_a_refused_first_request_is_not_kept() -> None:
    requests = _requests()

    async def refused() -> StoredAnswer:
        raise InvalidInput.single("name", "is required")

    async def produce() -> StoredAnswer:
        return ANSWER

    with pytest.raises(InvalidInput):
        await requests.run("u", "k", "fp", refused)
    assert await requests.run("u", "k", "fp", produce) == (ANSWER, False)


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\there"])
async def test_keys_must_be_1_to_255_printable_ascii_characters(key: str) -> None:
    async def produce() -> StoredAnswer:
        return ANSWER

    with pytest.raises(MalformedRequest):
        await _requests().run("u", key, "fp", produce)


async def test_the_stored_answer_is_sealed_and_opens_for_its_own_record_only() -> None:
    records = InMemoryIdempotencyRecords()
    requests = _requests(records=records)
    secret_answer = StoredAnswer(201, {}, b'{"key": "crm_very-secret"}')

    async def produce() -> StoredAnswer:
        return secret_answer

    await requests.run("u", "k", "fp", produce)
    record = await records.claim("u", "k", "fp", ManualClock().now(), ManualClock().now() - KEEP_FOR)
    assert record is not None
    assert record.answer is not None
    assert b"crm_very-secret" not in record.answer.body
    seal = AesGcmAnswerSeal(b"s3cret")
    assert seal.open(record.answer.body, "u\nk") == secret_answer.body
    assert seal.open(record.answer.body, "u\nother") is None
    assert AesGcmAnswerSeal(b"another secret").open(record.answer.body, "u\nk") is None


async def test_an_answer_sealed_with_an_old_secret_is_refused_not_made_again() -> None:
    records = InMemoryIdempotencyRecords()
    calls: list[int] = []

    async def produce() -> StoredAnswer:
        calls.append(1)
        return ANSWER

    await _requests(records=records).run("u", "k", "fp", produce)
    after_rotation = IdempotentRequests(records, ManualClock(), AesGcmAnswerSeal(b"rotated"), wait_seconds=0.3)
    with pytest.raises(Conflict, match="no longer be read"):
        await after_rotation.run("u", "k", "fp", produce)
    assert calls == [1]
