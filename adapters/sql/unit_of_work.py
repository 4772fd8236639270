"""One database transaction per unit of work, owned by the use case that opens it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.customer_history import SqlCustomerHistory
from adapters.sql.customers import SqlCustomerRepository
from adapters.sql.sign_in_sessions import SqlSignInSessionRepository
from adapters.sql.users import SqlUserRepository
from application.ports import UnitOfWork, UnitOfWorkFactory


class SqlUnitOfWork(UnitOfWork):
    """A pooled connection with a transaction begun on entry.

    Only ``commit`` makes changes stick: leaving the block without it (or with an error) rolls
    back, and the connection always goes back to the pool.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.users = SqlUserRepository(connection)
        self.customers = SqlCustomerRepository(connection)
        self.customer_history = SqlCustomerHistory(connection)
        self.sign_in_sessions = SqlSignInSessionRepository(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            # After a commit, a statement run later in the block began a new transaction: that one
            # was never committed either.
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()

    async def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit() outside of 'async with unit_of_work'")
        await self._connection.commit()


class SqlUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine)
