"""Export: every customer a list would show (the same search and order), in batches.

The batches are keyset pages, each read on its own, so a million customers pass through in bounded
memory and no transaction or cursor stays open while the client reads slowly. A customer changed
during the export appears where its sort value was when its batch was read, as in paging by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from application.access.authorization import may_read_customers
from application.customers.reading import check_sort, list_query, position_of
from application.ports.persistence import CustomerListQuery, UnitOfWorkFactory
from domain.customers import Customer
from domain.sign_in import Actor

# Large enough that the per-batch costs (a pooled connection, a round trip) fade (1,000 ran at two thirds
# of the speed), small enough that a batch, its entities and its rendered text, stays a few MB (5,000 took
# the worker past 150 MB).
EXPORT_BATCH_SIZE = 2500


class ExportCustomers:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(
        self, actor: Actor, *, search: str | None = None, sort: str = "-created_at", batch_size: int = EXPORT_BATCH_SIZE
    ) -> AsyncIterator[list[Customer]]:
        """Checks the request and reads the first batch at once, so that a bad request or an unavailable
        database is answered before the export starts; the other batches are read as they are iterated."""
        may_read_customers(actor)
        check_sort(sort)
        first = await self._batch(list_query(sort, search, batch_size, None))
        return self._batches(first, search, sort, batch_size)

    async def _batch(self, query: CustomerListQuery) -> list[Customer]:
        async with self._uow.for_reading() as uow:
            return await uow.customers.list(query)

    async def _batches(
        self, batch: list[Customer], search: str | None, sort: str, batch_size: int
    ) -> AsyncIterator[list[Customer]]:
        while batch:
            yield batch
            if len(batch) < batch_size:
                return
            after = position_of(batch[-1], sort.removeprefix("-"))
            batch = await self._batch(list_query(sort, search, batch_size, after))
