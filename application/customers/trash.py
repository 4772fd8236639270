"""The trash: deleted customers wait here, photo and all, to be restored or, after the trash period, purged.

A trashed customer keeps its row (so its id stays taken and its photo objects stay referenced) but
every ordinary read passes it by. Restoring brings it back exactly as it was, with a new version.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from application.access.authorization import may_read_customers, may_write_customers
from application.customers.details import discard_objects, parse_customer_id
from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports.persistence import UnitOfWorkFactory
from application.ports.photos import PhotoStorage
from application.ports.system import Clock
from domain.customer_history import CustomerChange
from domain.customers import Customer, TrashedCustomer
from domain.errors import MalformedRequest, NotFound
from domain.sign_in import Actor
from domain.values import CustomerId

logger = logging.getLogger(__name__)

NOT_IN_TRASH = "No such customer in the trash."


class RestoreCustomer:
    """Any signed-in user may restore what any signed-in user may delete."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, actor: Actor, customer_id: str) -> Customer:
        may_write_customers(actor)
        async with self._uow() as uow:
            trashed = await uow.customers.get_trashed(_trash_id(customer_id), for_update=True)
            if trashed is None:
                raise NotFound(NOT_IN_TRASH)
            customer = trashed.customer
            customer.restore(by=actor.ref, at=self._clock.now())
            await uow.customers.restore(customer)
            await uow.customer_history.record(CustomerChange.restored(customer))
            await uow.commit()
        return customer


class ListTrash:
    """A page of the trash, the most recently deleted first."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, *, limit: int, cursor: str | None = None) -> Page[TrashedCustomer]:
        may_read_customers(actor)
        after = _decode_position(cursor) if cursor is not None else None
        async with self._uow.for_reading() as uow:
            found = await uow.customers.list_trash(check_limit(limit) + 1, after)
        return page_of(found, limit, lambda last: (last.deleted_at.isoformat(), last.customer.id))


class PurgeTrash:
    """Remove for good what has been in the trash longer than the trash period, photo objects included.

    Batch by batch, each in its own transaction, so that a long trash never holds locks for long; the
    photo objects go after their rows (what fails there is left for the orphan sweep). The history
    stays, ending with the ``deleted`` entry, as after any deletion.
    """

    def __init__(self, uow: UnitOfWorkFactory, storage: PhotoStorage, clock: Clock, period: timedelta) -> None:
        self._uow = uow
        self._storage = storage
        self._clock = clock
        self._period = period

    async def execute(self, *, batch_size: int = 500) -> int:
        cutoff = self._clock.now() - self._period
        purged = 0
        while True:
            async with self._uow() as uow:
                batch = await uow.customers.purge_trash(cutoff, batch_size)
                await uow.commit()
            for customer in batch:
                await discard_objects(self._storage, customer.photo)
            purged += len(batch)
            if len(batch) < batch_size:
                break
        logger.info("trash purge: %d customers deleted more than %s ago", purged, self._period)
        return purged


def _trash_id(customer_id: str) -> CustomerId:
    try:
        return parse_customer_id(customer_id)
    except NotFound:
        raise NotFound(NOT_IN_TRASH) from None


def _decode_position(cursor: str) -> tuple[datetime, str]:
    deleted_at, customer_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(deleted_at), customer_id
    except ValueError as error:
        raise MalformedRequest("The cursor is not valid.") from error
