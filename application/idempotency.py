"""Idempotency-Key (IETF draft "The Idempotency-Key HTTP Header Field") for requests that create something.

The same key from the same caller with the same method, path and body within 24 hours gets the first answer again;
with another body it is refused (422); while the first is still running, a repeat waits a few seconds for its answer
and is refused (409) if it does not come. So clients can retry a create after a timeout without making two.

Answers are stored sealed (``AnswerSeal``): the answer to making an API key holds the key, which must not lie in
the database in the clear for a day.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from application.ports.idempotency import AnswerSeal, IdempotencyRecords, StoredAnswer
from application.ports.system import Clock
from domain.errors import Conflict, InvalidInput, MalformedRequest

KEEP_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# How long a repeat waits for the first request's answer before it gets 409.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05


def check_key(key: str) -> None:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        raise MalformedRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters.")


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


class IdempotentRequests:
    def __init__(
        self, records: IdempotencyRecords, clock: Clock, seal: AnswerSeal, *, wait_seconds: float = WAIT_SECONDS
    ) -> None:
        self._records, self._clock, self._seal, self._wait_seconds = records, clock, seal, wait_seconds

    async def run(
        self, caller: str, key: str, request_fingerprint: str, produce: Callable[[], Awaitable[StoredAnswer]]
    ) -> tuple[StoredAnswer, bool]:
        """The answer, and whether it is a replay."""
        check_key(key)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_seconds
        while True:
            now = self._clock.now()
            record = await self._records.claim(caller, key, request_fingerprint, now, now - KEEP_FOR)
            if record is None:
                return await self._first(caller, key, produce), False
            if record.fingerprint != request_fingerprint:
                raise InvalidInput.single(
                    "Idempotency-Key", "was used for another request (method, path or body) in the last 24 hours"
                )
            if record.answer is not None:
                return self._opened(caller, key, record.answer), True
            if loop.time() >= deadline:
                raise Conflict("A request with this Idempotency-Key is still being processed; retry later.")
            await asyncio.sleep(POLL_SECONDS)

    async def _first(self, caller: str, key: str, produce: Callable[[], Awaitable[StoredAnswer]]) -> StoredAnswer:
        try:
            answer = await produce()
        except BaseException:
            # Refusals (4xx) and failures are not kept: the same request may be sent again and decided afresh.
            await asyncio.shield(self._records.release(caller, key))
            raise
        sealed = self._seal.seal(answer.body, _record_name(caller, key))
        await self._records.complete(caller, key, replace(answer, body=sealed))
        return answer

    def _opened(self, caller: str, key: str, answer: StoredAnswer) -> StoredAnswer:
        body = self._seal.open(answer.body, _record_name(caller, key))
        if body is None:
            # SECRET_KEY changed since: the answer is lost, and making the thing again could make it twice.
            raise Conflict("The first answer to this Idempotency-Key can no longer be read; use a new key.")
        return replace(answer, body=body)


def _record_name(caller: str, key: str) -> str:
    return f"{caller}\n{key}"


class SweepIdempotencyRecords:
    def __init__(self, records: IdempotencyRecords, clock: Clock) -> None:
        self._records, self._clock = records, clock

    async def execute(self) -> int:
        return await self._records.sweep(self._clock.now() - KEEP_FOR)
