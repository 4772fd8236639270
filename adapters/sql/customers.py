"""Customers in PostgreSQL, with keyset pages in every sort order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, delete, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.errors import domain_errors
from adapters.sql.rows import LIKE_ESCAPE, contains_pattern, optional, trusted
from adapters.sql.tables import customers, users
from application.customers import sort_key
from application.ports import CustomerListQuery, CustomerRepository
from domain.customers import Customer, Photo
from domain.users import UserRef
from domain.values import CustomerId, Email, Notes, PersonName, Phone

# Customers point at the users who created and last changed them; deleted users still resolve,
# because users are never removed.
_creator = users.alias("creator")
_updater = users.alias("updater")
_SELECT: Select[Any] = select(
    customers.c.id,
    customers.c.name,
    customers.c.surname,
    customers.c.email,
    customers.c.phone,
    customers.c.notes,
    customers.c.photo_key,
    customers.c.photo_thumbnail_key,
    customers.c.photo_content_type,
    customers.c.created_at,
    customers.c.created_by,
    _creator.c.name.label("created_by_name"),
    customers.c.updated_at,
    customers.c.updated_by,
    _updater.c.name.label("updated_by_name"),
    customers.c.version,
).select_from(
    customers.join(_creator, _creator.c.id == customers.c.created_by).join(
        _updater, _updater.c.id == customers.c.updated_by
    )
)

# The column each sort order uses; names sort by their search key (case and accents ignored).
_SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": customers.c.name_key,
    "surname": customers.c.surname_key,
    "created_at": customers.c.created_at,
    "updated_at": customers.c.updated_at,
    "id": customers.c.id,
}


def _values(customer: Customer) -> dict[str, Any]:
    photo = customer.photo
    return {
        "name": customer.name,
        "surname": customer.surname,
        "email": customer.email,
        "phone": customer.phone,
        "notes": customer.notes,
        "name_key": sort_key(customer, "name"),
        "surname_key": sort_key(customer, "surname"),
        "search_text": customer.search_text,
        "photo_key": photo.key if photo else None,
        "photo_thumbnail_key": photo.thumbnail_key if photo else None,
        "photo_content_type": photo.content_type if photo else None,
        "created_at": customer.created_at,
        "created_by": customer.created_by.id,
        "updated_at": customer.updated_at,
        "updated_by": customer.updated_by.id,
        "version": customer.version,
    }


def _customer(row: Row[Any]) -> Customer:
    photo = None
    if row.photo_key is not None:
        photo = Photo(row.photo_key, row.photo_thumbnail_key, row.photo_content_type)
    return Customer(
        id=trusted(CustomerId, row.id),
        name=trusted(PersonName, row.name),
        surname=trusted(PersonName, row.surname),
        email=optional(Email, row.email),
        phone=optional(Phone, row.phone),
        notes=optional(Notes, row.notes),
        created_at=row.created_at,
        created_by=UserRef(row.created_by, row.created_by_name),
        updated_at=row.updated_at,
        updated_by=UserRef(row.updated_by, row.updated_by_name),
        version=row.version,
        photo=photo,
    )


def _page(statement: Select[Any], query: CustomerListQuery) -> Select[Any]:
    """Order by the sort column then id, and start strictly after ``query.after`` in that order.

    The row-value comparison ``(column, id) > (value, id)`` is what lets the (column, id) index
    find the start of any page directly, so the last page costs what the first does.
    """
    column = _SORT_COLUMNS[query.sort]
    if query.sort == "id":
        if query.after is not None:
            after_id = query.after[1]
            statement = statement.where(column < after_id if query.descending else column > after_id)
        return statement.order_by(column.desc() if query.descending else column.asc())
    if query.after is not None:
        position = tuple_(column, customers.c.id)
        after = tuple_(*query.after)
        statement = statement.where(position < after if query.descending else position > after)
    if query.descending:
        return statement.order_by(column.desc(), customers.c.id.desc())
    return statement.order_by(column.asc(), customers.c.id.asc())


class SqlCustomerRepository(CustomerRepository):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, customer: Customer) -> None:
        with domain_errors():
            await self._connection.execute(insert(customers).values(id=customer.id, **_values(customer)))

    async def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None:
        statement = _SELECT.where(customers.c.id == customer_id)
        if for_update:
            # Lock only the customer: the joined users rows stay free for others.
            statement = statement.with_for_update(of=customers)
        row = (await self._connection.execute(statement)).one_or_none()
        return None if row is None else _customer(row)

    async def update(self, customer: Customer) -> None:
        with domain_errors():
            await self._connection.execute(
                update(customers).where(customers.c.id == customer.id).values(**_values(customer))
            )

    async def delete(self, customer_id: CustomerId) -> None:
        await self._connection.execute(delete(customers).where(customers.c.id == customer_id))

    async def list(self, query: CustomerListQuery) -> list[Customer]:
        statement = _SELECT
        if query.search:
            statement = statement.where(
                customers.c.search_text.like(contains_pattern(query.search), escape=LIKE_ESCAPE)
            )
        statement = _page(statement, query).limit(query.limit)
        result = await self._connection.execute(statement)
        return [_customer(row) for row in result]

    async def referenced_photo_keys(self, keys: Sequence[str]) -> set[str]:
        wanted: set[str] = set(keys)
        if not wanted:
            return set()
        # Photo keys have no index of their own (only the periodic sweep asks): a batch costs one scan.
        candidates = sorted(wanted)
        statement = select(customers.c.photo_key, customers.c.photo_thumbnail_key).where(
            or_(customers.c.photo_key.in_(candidates), customers.c.photo_thumbnail_key.in_(candidates))
        )
        result = await self._connection.execute(statement)
        return {key for row in result for key in (row.photo_key, row.photo_thumbnail_key) if key in wanted}
