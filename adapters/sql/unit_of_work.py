"""One database transaction per unit of work, owned by the use case that opens it."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool

from adapters.sql.access.api_keys import SqlApiKeyRepository
from adapters.sql.access.sign_in_sessions import SqlSignInSessionRepository
from adapters.sql.access.users import SqlUserRepository
from adapters.sql.availability import (
    DATABASE_UNAVAILABLE,
    as_unavailable,
    is_database_unavailable,
    unavailable_database_as_503,
)
from adapters.sql.customers.history import SqlCustomerHistory
from adapters.sql.customers.repository import SqlCustomerRepository
from adapters.sql.integrations.webhooks import SqlWebhookRepository
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from domain.errors import ServiceUnavailable


class ConnectionTurns:
    """Units of work take the pool's connections in the order they asked, waiting here at most
    ``timeout`` seconds (then 503), with one turn per pooled connection.

    SQLAlchemy's pool hands a returned connection to whoever asks next, not to whoever waited longest:
    with more requests in flight than connections, some requests lost the race again and again, and
    p99 latency was ten times p50. A FIFO queue in front of the pool fixes that. Under load nearly every
    request waits: one timer for the oldest waiter (all wait equally long, so the oldest expires first)
    replaces a timer per waiter, which ``asyncio.timeout`` would arm and cancel on every request.
    """

    def __init__(self, size: int, timeout: float) -> None:
        self._free = size
        self._timeout = timeout
        self._waiting: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    async def take(self) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1  # a free turn: no waiting, no timer
            return
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((loop.time() + self._timeout, turn))
        if self._timer is None:
            self._expire_later(loop)
        try:
            given = await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.result():
                self.give_back()  # the turn came with the cancellation: pass it on
            raise
        if not given:
            raise ServiceUnavailable(DATABASE_UNAVAILABLE)

    def give_back(self) -> None:
        while self._waiting:
            _, turn = self._waiting.popleft()
            if not turn.done():  # not cancelled meanwhile
                turn.set_result(True)
                return
        self._free += 1

    def _expire_later(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = loop.call_at(self._waiting[0][0], self._expire, loop) if self._waiting else None

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        while self._waiting and (self._waiting[0][0] <= now or self._waiting[0][1].done()):
            _, turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(False)
        self._expire_later(loop)


class SqlUnitOfWork(UnitOfWork):
    """A pooled connection with a transaction begun on entry (or, for reading and single-statement writes, none).

    Only ``commit`` makes changes stick: leaving the block without it (or with an error) rolls
    back, and the connection always goes back to the pool. A database that cannot be reached
    becomes ``ServiceUnavailable`` (503), never an unexplained error.
    """

    def __init__(
        self, engine: AsyncEngine, turns: ConnectionTurns, *, read_only: bool = False, transaction: bool = True
    ) -> None:
        super().__init__(read_only=read_only)
        self._engine = engine
        self._turns = turns
        # Without a transaction (reads, single-statement writes) each statement commits by itself.
        self._transaction = transaction and not read_only
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        await self._turns.take()
        try:
            with unavailable_database_as_503():
                connection = await self._engine.connect()
                try:
                    if self._transaction:
                        await connection.begin()
                except BaseException:
                    await connection.close()
                    raise
        except BaseException:
            self._turns.give_back()
            raise
        self._connection = connection
        self.users = SqlUserRepository(connection)
        self.customers = SqlCustomerRepository(connection, raw_reads=not self._transaction)
        self.customer_history = SqlCustomerHistory(connection)
        self.sign_in_sessions = SqlSignInSessionRepository(connection)
        self.webhooks = SqlWebhookRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        return self

    async def _leave(self, error: BaseException | None) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # After a commit, a statement run later in the block began a new transaction: that one
            # was never committed either.
            if connection.in_transaction():
                await connection.rollback()
        except Exception as rollback_error:
            if error is None or not is_database_unavailable(rollback_error):
                raise
        finally:
            try:
                await connection.close()
            finally:
                self._turns.give_back()
        if isinstance(error, Exception) and is_database_unavailable(error):
            raise as_unavailable(error) from error

    def _entered(self) -> bool:
        return self._connection is not None

    async def _commit(self) -> None:
        assert self._connection is not None
        if self._transaction:
            await self._connection.commit()


class SqlUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, engine: AsyncEngine, *, wait_seconds: float = 5.0) -> None:
        self._engine = engine
        pool = engine.sync_engine.pool
        size = pool.size() if isinstance(pool, QueuePool) else 1_000_000
        self._turns = ConnectionTurns(size, wait_seconds)
        # The same pool; autocommit saves the BEGIN and ROLLBACK round trips around reads.
        self._reading_engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine, self._turns)

    def for_reading(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._reading_engine, self._turns, read_only=True)

    def for_single_write(self) -> SqlUnitOfWork:
        # The single write is one statement (adapters/sql/customers/writes.py): atomic without BEGIN/COMMIT.
        return SqlUnitOfWork(self._reading_engine, self._turns, transaction=False)
