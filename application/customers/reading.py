"""Reading customers: one by id, or a page of them, optionally searched, in a chosen order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from application.access.authorization import may_read_customers
from application.customers.details import get_customer_for_change
from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports.persistence import CustomerListQuery, CustomerSortField, UnitOfWorkFactory
from application.validation import check_search
from domain.customers import Customer, sort_key
from domain.errors import (
    InvalidInput,
    MalformedRequest,
)
from domain.sign_in import Actor
from domain.values import search_key

SORT_FIELDS: tuple[str, ...] = get_args(CustomerSortField)


class GetCustomer:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(self, actor: Actor, customer_id: str) -> Customer:
        may_read_customers(actor)
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
        may_read_customers(actor)
        check_sort(sort)
        after = _decode_position(cursor, sort) if cursor is not None else None
        query = list_query(sort, search, check_limit(limit) + 1, after)
        async with self._uow.for_reading() as uow:
            customers = await uow.customers.list(query)
        return page_of(customers, limit, lambda last: (sort, _sort_value(last, query.sort), last.id))


def check_sort(sort: str) -> None:
    if sort.removeprefix("-") not in SORT_FIELDS:
        raise InvalidInput.single("sort", f"must be one of {', '.join(SORT_FIELDS)}, optionally prefixed with -")


def list_query(sort: str, search: str | None, limit: int, after: tuple[Any, str] | None) -> CustomerListQuery:
    """The repository's query for a checked ``sort`` (e.g. ``-created_at``) and the user's search text."""
    check_search(search)
    return CustomerListQuery(
        limit=limit,
        sort=sort.removeprefix("-"),  # type: ignore[arg-type]  # checked by check_sort
        descending=sort.startswith("-"),
        search=search_key(search) if search else None,
        after=after,
    )


def position_of(customer: Customer, field: str) -> tuple[Any, str]:
    """Where ``customer`` stands in the order by ``field``: what ``CustomerListQuery.after`` takes."""
    return sort_key(customer, field), customer.id


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
