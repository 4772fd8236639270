"""Failed sign-in counts in PostgreSQL, so that every replica sees the same counts.

The rules are those of ``adapters.memory.access.sign_in_throttle`` (one contract test runs both): a key's window
starts at its first failure; while the window lasts, a key with ``max_failures`` or more failures
is refused until the window ends; a failure after the window ended starts a new window.

- ``check`` is one indexed read of the rules' keys; the arithmetic is done here, on the times the
  application's clock gives (the database's own clock is never used, so that both adapters agree).
- ``record_failure`` is one atomic upsert per rule (INSERT ... ON CONFLICT DO UPDATE), which resets
  the window when it has ended: concurrent failures on any replica are all counted. The rules are
  always upserted in the same order, so two transactions never wait for each other in a cycle.
- Rows whose window ended long ago are deleted now and then, after a failure (one in
  ``cleanup_one_in``), by a cheap indexed DELETE outside the upserts' transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import DateTime, case, delete, literal, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.access.user_tables import sign_in_failures
from adapters.sql.availability import unavailable_database_as_503
from application.access.sign_in_throttle import ThrottleRule, enforce_throttle
from application.ports.throttle import SignInThrottle

_failures = sign_in_failures.c


class SqlSignInThrottle(SignInThrottle):
    def __init__(
        self, engine: AsyncEngine, *, retention: timedelta = timedelta(days=1), cleanup_one_in: int = 100
    ) -> None:
        """``retention``: how long after its window started a row may be deleted (at least the longest
        rule's window is kept in any case). ``cleanup_one_in``: how many failures, on average, per clean-up."""
        if retention <= timedelta(0) or cleanup_one_in < 1:
            raise ValueError("retention must be positive and cleanup_one_in at least 1")
        self._engine = engine
        # Single statements need no transaction of their own.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._retention = retention
        self._cleanup_one_in = cleanup_one_in

    async def check(self, rules: list[ThrottleRule], now: datetime) -> None:
        if not rules:
            return
        statement = select(_failures.key, _failures.failures, _failures.window_started_at).where(
            _failures.key.in_([rule.key for rule in rules])
        )
        with unavailable_database_as_503():
            async with self._autocommit.connect() as connection:
                rows = await connection.execute(statement)
                counts = {row.key: (row.failures, row.window_started_at) for row in rows}
        enforce_throttle(rules, counts, now)

    async def record_failure(self, rules: list[ThrottleRule], now: datetime) -> None:
        if not rules:
            return
        with unavailable_database_as_503():
            async with self._engine.begin() as connection:
                for rule in rules:
                    await connection.execute(_count_failure(rule, now))
        if secrets.randbelow(self._cleanup_one_in) == 0:
            await self.delete_expired(now, longest_window=max(rule.window for rule in rules))

    async def forget(self, keys: list[str]) -> None:
        if not keys:
            return
        with unavailable_database_as_503():
            async with self._autocommit.connect() as connection:
                await connection.execute(delete(sign_in_failures).where(_failures.key.in_(keys)))

    async def delete_expired(self, now: datetime, *, longest_window: timedelta = timedelta(0)) -> int:
        """Delete the rows whose window started more than the retention (and ``longest_window``) before
        ``now``: their windows have ended, so they count nothing any more. Returns how many went."""
        cutoff = now - max(self._retention, longest_window)
        async with self._autocommit.connect() as connection:
            result = await connection.execute(delete(sign_in_failures).where(_failures.window_started_at < cutoff))
        return result.rowcount


def _count_failure(rule: ThrottleRule, now: datetime) -> Insert:
    """One more failure for the rule's key: the first of a new window if there is none or it has ended."""
    at = literal(now, DateTime(timezone=True))
    window_ended = _failures.window_started_at + rule.window <= at
    return (
        insert(sign_in_failures)
        .values(key=rule.key, failures=1, window_started_at=at)
        .on_conflict_do_update(
            index_elements=[_failures.key],
            set_={
                "failures": case((window_ended, 1), else_=_failures.failures + 1),
                "window_started_at": case((window_ended, at), else_=_failures.window_started_at),
            },
        )
    )
