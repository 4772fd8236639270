"""Managing customers: every signed-in user may list, read, create, change and delete them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from application.pagination import Page, check_limit, decode_cursor, page_of
from application.photos import photo_keys
from application.ports.persistence import CustomerListQuery, CustomerSortField, UnitOfWork, UnitOfWorkFactory
from application.ports.photos import PhotoStorage
from application.ports.system import Clock
from application.validation import Problems
from domain.customer_history import CustomerChange
from domain.customers import EDITABLE_FIELDS, Customer, CustomerDetails, Photo, sort_key
from domain.errors import InvalidInput, MalformedRequest, NotFound, PreconditionFailed, ServiceUnavailable
from domain.sign_in import Actor
from domain.values import CustomerId, Email, Notes, PersonName, Phone, search_key

logger = logging.getLogger(__name__)

CUSTOMER_NOT_FOUND = "No such customer."
SORT_FIELDS: tuple[str, ...] = get_args(CustomerSortField)
_OPTIONAL_PARSERS = {"email": Email, "phone": Phone, "notes": Notes}


@dataclass(frozen=True, slots=True)
class NewCustomer:
    id: str
    name: str
    surname: str
    email: str | None = None
    phone: str | None = None
    notes: str | None = None


def parse_details(values: Mapping[str, str | None]) -> CustomerDetails:
    """Validate every editable field at once; name and surname are required, the rest optional."""
    problems = Problems()
    parsed: dict[str, Any] = {}
    for field in ("name", "surname"):
        value = values.get(field)
        if value is None:
            problems.add(field, "is required")
        else:
            parsed[field] = problems.parse(PersonName, value, field)
    for field, parser in _OPTIONAL_PARSERS.items():
        value = values.get(field)
        parsed[field] = None if value is None else problems.parse(parser, value, field)
    problems.raise_if_any()
    return CustomerDetails(**parsed)


def parse_customer_id(value: str) -> CustomerId:
    try:
        return CustomerId(value)
    except InvalidInput as error:
        # A malformed id in a URL names no customer; do not reveal the rule there.
        raise NotFound(CUSTOMER_NOT_FOUND) from error


async def get_customer_for_change(uow: UnitOfWork, customer_id: str, *, lock: bool = False) -> Customer:
    """The customer, locked until commit when ``lock``; ``NotFound`` if there is none."""
    customer = await uow.customers.get(parse_customer_id(customer_id), for_update=lock)
    if customer is None:
        raise NotFound(CUSTOMER_NOT_FOUND)
    return customer


def _check_revision(customer: Customer, expected: list[str] | None) -> None:
    if not customer.matches_revision(expected):
        raise PreconditionFailed("The customer has changed since you read it; read it again and retry.")


async def discard_objects(storage: PhotoStorage, photo: Photo | None) -> None:
    """Delete a photo's objects, best effort: what fails here is left for the orphan sweep."""
    if photo is None:
        return
    try:
        await storage.delete(photo_keys(photo))
    except ServiceUnavailable:
        logger.warning("Could not delete photo objects %s; the orphan sweep will.", photo_keys(photo))


class CreateCustomer:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, actor: Actor, new: NewCustomer) -> Customer:
        problems = Problems()
        customer_id = problems.parse(CustomerId, new.id, "id")
        details = problems.run(lambda: parse_details({field: getattr(new, field) for field in EDITABLE_FIELDS}))
        problems.raise_if_any()
        assert customer_id is not None
        assert details is not None
        customer = Customer.register(customer_id, details, by=actor.ref, at=self._clock.now())
        async with self._uow.for_single_write() as uow:
            await uow.customers.add_with_history(customer, CustomerChange.created(customer))
            await uow.commit()
        return customer


class GetCustomer:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, customer_id: str) -> Customer:
        async with self._uow.for_reading() as uow:
            return await get_customer_for_change(uow, customer_id)


class ListCustomers:
    """A page of customers, optionally searched, in a chosen order; stable under inserts and deletes."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(
        self,
        actor: Actor,
        *,
        limit: int,
        cursor: str | None = None,
        search: str | None = None,
        sort: str = "-created_at",
    ) -> Page[Customer]:
        descending = sort.startswith("-")
        field = sort.removeprefix("-")
        if field not in SORT_FIELDS:
            raise InvalidInput.single("sort", f"must be one of {', '.join(SORT_FIELDS)}, optionally prefixed with -")
        after = _decode_position(cursor, sort) if cursor is not None else None
        query = CustomerListQuery(
            limit=check_limit(limit) + 1,
            sort=field,  # type: ignore[arg-type]  # checked against SORT_FIELDS above
            descending=descending,
            search=search_key(search) if search else None,
            after=after,
        )
        async with self._uow.for_reading() as uow:
            customers = await uow.customers.list(query)
        return page_of(customers, limit, lambda last: (sort, _sort_value(last, field), last.id))


def _sort_value(customer: Customer, field: str) -> str:
    value = sort_key(customer, field)
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _decode_position(cursor: str, sort: str) -> tuple[Any, str]:
    cursor_sort, value, customer_id = decode_cursor(cursor, 3)
    if cursor_sort != sort:
        raise MalformedRequest("The cursor belongs to another sort order.")
    if sort.removeprefix("-") in ("created_at", "updated_at"):
        try:
            return datetime.fromisoformat(value), customer_id
        except ValueError as error:
            raise MalformedRequest("The cursor is not valid.") from error
    return value, customer_id


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
    """Deleting a customer deletes their photo too, once the row is gone. Their history stays, ending
    with the deletion."""

    def __init__(self, uow: UnitOfWorkFactory, storage: PhotoStorage, clock: Clock) -> None:
        self._uow = uow
        self._storage = storage
        self._clock = clock

    async def execute(self, actor: Actor, customer_id: str, expected_revisions: list[str] | None = None) -> None:
        async with self._uow() as uow:
            customer = await get_customer_for_change(uow, customer_id, lock=True)
            _check_revision(customer, expected_revisions)
            await uow.customers.delete(customer.id)
            await uow.customer_history.record(CustomerChange.deleted(customer.id, actor.ref, self._clock.now()))
            await uow.commit()
        await discard_objects(self._storage, customer.photo)
