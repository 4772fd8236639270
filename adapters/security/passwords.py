"""argon2id password hashing, off the event loop and bounded in concurrency."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher as Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from adapters.system.cpus import available_cpus
from application.ports.security import PasswordHasher


@dataclass(frozen=True, slots=True)
class HashingCost:
    """argon2id parameters; the defaults are RFC 9106's second recommended option (64 MiB, t=3)."""

    time_cost: int = 3
    memory_kib: int = 65_536
    parallelism: int = 4


class Argon2PasswordHasher(PasswordHasher):
    def __init__(self, cost: HashingCost, max_concurrent: int | None = None) -> None:
        self._argon2 = Argon2(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=Type.ID,
        )
        # Each hash takes ~64 MiB and a core for a fifth of a second: more at once only queues in the CPU
        # and multiplies memory, so wait here instead.
        self._slots = asyncio.Semaphore(max_concurrent or available_cpus())
        self._dummy_hash = self._argon2.hash("not a real password, only for equal timing")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def verify_nothing(self, password: str) -> None:
        await self.verify(self._dummy_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
