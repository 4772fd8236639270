"""The state one in-memory unit of work reads and writes; see ``unit_of_work`` for the rules."""

from __future__ import annotations

from adapters.memory.store import InMemoryStore, Tables


class Transaction:
    """What the repositories of one unit of work share: which version of the tables to use."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._private: Tables | None = None

    def readable(self) -> Tables:
        return self._private if self._private is not None else self._store.committed

    async def writable(self) -> Tables:
        if self._private is None:
            await self._store.write_lock.acquire()
            # Copied after the lock is held, so that it includes every earlier commit.
            self._private = self._store.committed.copy()
        return self._private

    def commit(self) -> None:
        if self._private is not None:
            if self._private.webhook_deliveries != self._store.committed.webhook_deliveries:
                self._store.webhook_events_committed.set()
            # Every recorded change has a new highest id.
            if next(reversed(self._private.customer_changes), 0) != next(
                reversed(self._store.committed.customer_changes), 0
            ):
                self._store.customer_events_committed.set()
            self._store.committed = self._private
        self._release()

    def rollback(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._private is not None:
            self._private = None
            self._store.write_lock.release()
