"""Erasure on request (GDPR Art. 17): a customer and every personal value about it, gone at once.

Admins only, since nothing can bring the customer back. The row goes (live or trashed), its photo
objects go, and its history is replaced by one ``erased`` entry that keeps only that the id existed,
who erased it and when: the record of the erasure itself, which the controller must be able to show.
An id whose customer was already purged from the trash still has a history to erase.
"""

from __future__ import annotations

from application.access.authorization import require_admin
from application.customers.details import CUSTOMER_NOT_FOUND, discard_objects, parse_customer_id
from application.ports.persistence import UnitOfWorkFactory
from application.ports.photos import PhotoStorage
from application.ports.system import Clock
from domain.customer_history import CustomerChange
from domain.errors import NotFound, PreconditionFailed
from domain.sign_in import Actor


class EraseCustomer:
    def __init__(self, uow: UnitOfWorkFactory, storage: PhotoStorage, clock: Clock) -> None:
        self._uow = uow
        self._storage = storage
        self._clock = clock

    async def execute(self, actor: Actor, customer_id: str, expected_revisions: list[str] | None = None) -> None:
        """``expected_revisions`` (If-Match), when given, must name the customer's current revision."""
        require_admin(actor, "Only admins may erase customers.")
        erased_id = parse_customer_id(customer_id)
        async with self._uow() as uow:
            customer = await uow.customers.get(erased_id, for_update=True)
            if customer is None:
                trashed = await uow.customers.get_trashed(erased_id, for_update=True)
                customer = None if trashed is None else trashed.customer
            if customer is None and not await uow.customer_history.list(erased_id, 1):
                raise NotFound(CUSTOMER_NOT_FOUND)
            if customer is not None and not customer.matches_revision(expected_revisions):
                raise PreconditionFailed("The customer has changed since you read it; read it again and retry.")
            await uow.customers.delete(erased_id)
            await uow.customer_history.erase(erased_id)
            await uow.customer_history.record(CustomerChange.erased(erased_id, actor.ref, self._clock.now()))
            await uow.commit()
        if customer is not None:
            await discard_objects(self._storage, customer.photo)
