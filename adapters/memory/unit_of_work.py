"""Units of work over the in-memory store, with the isolation the PostgreSQL adapter gives.

- Plain reads see the latest committed state (like READ COMMITTED).
- The first write or locking read takes the store's lock and works on a private copy of the
  committed state from then on; ``commit`` publishes the copy, anything else discards it.
  Because the lock is held until the unit of work ends, a second unit of work that wants to
  write or lock waits and then sees the first one's changes, as it would behind a row lock:
  this is what makes the last-admin rule hold when two admins are demoted at once.

Like two connections that lock the same rows, a task that writes in one unit of work and then
opens another to write, before the first ends, waits for itself: use cases never nest them.
"""

from __future__ import annotations

from typing import Self

from adapters.memory.access.api_keys import InMemoryApiKeyRepository
from adapters.memory.access.sign_in_sessions import InMemorySignInSessionRepository
from adapters.memory.access.users import InMemoryUserRepository
from adapters.memory.customers.history import InMemoryCustomerHistory
from adapters.memory.customers.repository import InMemoryCustomerRepository
from adapters.memory.integrations.webhooks import InMemoryWebhookRepository
from adapters.memory.store import InMemoryStore
from adapters.memory.transaction import Transaction
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory


class InMemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: InMemoryStore, *, read_only: bool = False) -> None:
        super().__init__(read_only=read_only)
        self._store = store
        self._transaction: Transaction | None = None

    async def __aenter__(self) -> Self:
        self._transaction = Transaction(self._store)
        self.users = InMemoryUserRepository(self._transaction)
        self.customers = InMemoryCustomerRepository(self._transaction)
        self.customer_history = InMemoryCustomerHistory(self._transaction)
        self.sign_in_sessions = InMemorySignInSessionRepository(self._transaction)
        self.webhooks = InMemoryWebhookRepository(self._transaction)
        self.api_keys = InMemoryApiKeyRepository(self._transaction)
        return self

    async def _leave(self, error: BaseException | None) -> None:
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            transaction.rollback()

    def _entered(self) -> bool:
        return self._transaction is not None

    async def _commit(self) -> None:
        assert self._transaction is not None
        self._transaction.commit()


class InMemoryUnitOfWorkFactory(UnitOfWorkFactory):
    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self._store)

    def for_reading(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self._store, read_only=True)
