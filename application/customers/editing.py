"""Changing customers: every signed-in user may create, change and delete them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from application.access.authorization import may_write_customers
from application.customers.details import ID_IN_TRASH, get_customer_for_change, parse_details
from application.ports.persistence import UnitOfWork, UnitOfWorkFactory
from application.ports.system import Clock
from application.validation import Problems
from domain.customer_history import CustomerChange
from domain.customers import EDITABLE_FIELDS, Customer
from domain.errors import (
    Conflict,
    InvalidInput,
    PreconditionFailed,
    ServiceUnavailable,
)
from domain.sign_in import Actor
from domain.values import CustomerId


@dataclass(frozen=True, slots=True)
class NewCustomer:
    id: str
    name: str
    surname: str
    email: str | None = None
    phone: str | None = None
    notes: str | None = None


class CreateCustomer:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, actor: Actor, new: NewCustomer) -> Customer:
        may_write_customers(actor)
        problems = Problems()
        customer_id = problems.parse(CustomerId, new.id, "id")
        details = problems.run(lambda: parse_details({field: getattr(new, field) for field in EDITABLE_FIELDS}))
        problems.raise_if_any()
        assert customer_id is not None
        assert details is not None
        customer = Customer.register(customer_id, details, by=actor.ref, at=self._clock.now())
        try:
            async with self._uow.for_single_write() as uow:
                await uow.customers.add_with_history(customer, CustomerChange.created(customer))
                await uow.commit()
        except Conflict:
            # Only on this rare path is it worth a second look: is the id taken by a trashed customer?
            async with self._uow.for_reading() as uow:
                if await uow.customers.get_trashed(customer_id) is not None:
                    raise Conflict(ID_IN_TRASH) from None
            raise
        return customer


def _check_revision(customer: Customer, expected: list[str] | None) -> None:
    if not customer.matches_revision(expected):
        raise PreconditionFailed("The customer has changed since you read it; read it again and retry.")


class UpdateCustomer:
    """A JSON merge patch: given fields change, null clears an optional field; the id never changes."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self,
        actor: Actor,
        customer_id: str,
        patch: Mapping[str, str | None],
        expected_revisions: list[str] | None = None,
    ) -> Customer:
        may_write_customers(actor)
        # First without a lock: read, change, then one write that lands only if nobody wrote in between.
        async with self._uow.for_single_write() as uow:
            customer = await self._apply(uow, actor, customer_id, patch, expected_revisions, lock=False)
            await uow.commit()
        if customer is not None:
            return customer
        # Somebody did (the row is busy): this time hold its lock from the read to the commit, so that this
        # attempt cannot lose again. With If-Match, the newer revision is now refused (412), a delete is 404.
        async with self._uow() as uow:
            customer = await self._apply(uow, actor, customer_id, patch, expected_revisions, lock=True)
            if customer is None:
                raise ServiceUnavailable("The customer could not be changed; try again.")
            await uow.commit()
        return customer

    async def _apply(
        self,
        uow: UnitOfWork,
        actor: Actor,
        customer_id: str,
        patch: Mapping[str, str | None],
        expected_revisions: list[str] | None,
        *,
        lock: bool,
    ) -> Customer | None:
        """The customer with the patch applied and stored; None if another change landed since the read."""
        customer = await get_customer_for_change(uow, customer_id, lock=lock)
        _check_revision(customer, expected_revisions)
        if "id" in patch and patch["id"] != customer.id:
            raise InvalidInput.single("id", "cannot be changed")
        values: dict[str, str | None] = {field: getattr(customer, field) for field in EDITABLE_FIELDS}
        values.update({field: patch[field] for field in EDITABLE_FIELDS if field in patch})
        details = parse_details(values)
        read_version = customer.version
        changes = customer.change_details(details, by=actor.ref, at=self._clock.now())
        if not changes:
            return customer
        change = CustomerChange.updated(customer, changes)
        return (
            customer if await uow.customers.update_with_history(customer, change, read_version=read_version) else None
        )


class DeleteCustomer:
    """Deleting a customer moves it to the trash, photo and all, from where it can be restored until the
    trash period ends (``application/customers/trash.py``). Its history records the deletion."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, actor: Actor, customer_id: str, expected_revisions: list[str] | None = None) -> None:
        may_write_customers(actor)
        async with self._uow() as uow:
            customer = await get_customer_for_change(uow, customer_id, lock=True)
            _check_revision(customer, expected_revisions)
            now = self._clock.now()
            await uow.customers.move_to_trash(customer.id, actor.ref, now)
            await uow.customer_history.record(CustomerChange.deleted(customer.id, actor.ref, now))
            await uow.commit()
