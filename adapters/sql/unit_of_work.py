"""One database transaction per unit of work, owned by the use case that opens it."""

from __future__ import annotations

from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.availability import DATABASE_UNAVAILABLE, is_database_unavailable, unavailable_database_as_503
from adapters.sql.customer_history import SqlCustomerHistory
from adapters.sql.customers import SqlCustomerRepository
from adapters.sql.sign_in_sessions import SqlSignInSessionRepository
from adapters.sql.users import SqlUserRepository
from adapters.sql.webhooks import SqlWebhookRepository
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from domain.errors import ServiceUnavailable


class SqlUnitOfWork(UnitOfWork):
    """A pooled connection with a transaction begun on entry (or, for reading, none at all).

    Only ``commit`` makes changes stick: leaving the block without it (or with an error) rolls
    back, and the connection always goes back to the pool. A database that cannot be reached
    becomes ``ServiceUnavailable`` (503), never an unexplained error.
    """

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        with unavailable_database_as_503():
            connection = await self._engine.connect()
            try:
                if not self.read_only:
                    await connection.begin()
            except BaseException:
                await connection.close()
                raise
        self._connection = connection
        self.users = SqlUserRepository(connection)
        self.customers = SqlCustomerRepository(connection, raw_reads=self.read_only)
        self.customer_history = SqlCustomerHistory(connection)
        self.sign_in_sessions = SqlSignInSessionRepository(connection)
        self.webhooks = SqlWebhookRepository(connection)
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
            await connection.close()
        if isinstance(error, Exception) and is_database_unavailable(error):
            raise ServiceUnavailable(DATABASE_UNAVAILABLE) from error

    def _entered(self) -> bool:
        return self._connection is not None

    async def _commit(self) -> None:
        assert self._connection is not None
        await self._connection.commit()


class SqlUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # The same pool; autocommit saves the BEGIN and ROLLBACK round trips around reads.
        self._reading_engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._engine)

    def for_reading(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self._reading_engine, read_only=True)
