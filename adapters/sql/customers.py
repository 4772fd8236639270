"""Customers in PostgreSQL, with keyset pages in every sort order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, delete, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql import customer_writes
from adapters.sql.customer_writes import column_values
from adapters.sql.errors import domain_errors
from adapters.sql.raw_reads import CompiledRead, fetch
from adapters.sql.rows import LIKE_ESCAPE, contains_pattern, optional, trusted
from adapters.sql.tables import customers, users
from application.ports.persistence import CustomerListQuery, CustomerRepository
from domain.customer_history import CustomerChange
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


def _customer(row: Mapping[str, Any]) -> Customer:
    """A customer from a row of ``_SELECT``: a SQLAlchemy row's mapping or an asyncpg record."""
    photo = None
    if row["photo_key"] is not None:
        photo = Photo(row["photo_key"], row["photo_thumbnail_key"], row["photo_content_type"])
    return Customer(
        id=trusted(CustomerId, row["id"]),
        name=trusted(PersonName, row["name"]),
        surname=trusted(PersonName, row["surname"]),
        email=optional(Email, row["email"]),
        phone=optional(Phone, row["phone"]),
        notes=optional(Notes, row["notes"]),
        created_at=row["created_at"],
        created_by=UserRef(row["created_by"], row["created_by_name"]),
        updated_at=row["updated_at"],
        updated_by=UserRef(row["updated_by"], row["updated_by_name"]),
        version=row["version"],
        photo=photo,
    )


_GET = _SELECT.where(customers.c.id == bindparam("customer_id"))
_GET_COMPILED = CompiledRead.of(_GET)


@cache
def _list_statement(sort: str, descending: bool, after: bool, search: bool) -> tuple[Select[Any], CompiledRead]:
    """The page query for one shape of ``CustomerListQuery``, built and compiled once.

    Order by the sort column then id, and start strictly after the position ``(after_value, after_id)``
    in that order. The row-value comparison ``(column, id) > (value, id)`` is what lets the (column, id)
    index find the start of any page directly, so the last page costs what the first does.
    """
    column = _SORT_COLUMNS[sort]
    statement = _SELECT
    if search:
        statement = statement.where(customers.c.search_text.like(bindparam("pattern"), escape=LIKE_ESCAPE))
    if sort == "id":
        if after:
            after_id = bindparam("after_id", type_=customers.c.id.type)
            statement = statement.where(column < after_id if descending else column > after_id)
        statement = statement.order_by(column.desc() if descending else column.asc())
    else:
        if after:
            position = tuple_(column, customers.c.id)
            start = tuple_(
                bindparam("after_value", type_=column.type), bindparam("after_id", type_=customers.c.id.type)
            )
            statement = statement.where(position < start if descending else position > start)
        order = (column.desc(), customers.c.id.desc()) if descending else (column.asc(), customers.c.id.asc())
        statement = statement.order_by(*order)
    statement = statement.limit(bindparam("limit", type_=Integer))
    return statement, CompiledRead.of(statement)


def _list_values(query: CustomerListQuery) -> dict[str, Any]:
    values: dict[str, Any] = {"limit": query.limit}
    if query.search:
        values["pattern"] = contains_pattern(query.search)
    if query.after is not None:
        values["after_value"], values["after_id"] = query.after
    return values


class SqlCustomerRepository(CustomerRepository):
    def __init__(self, connection: AsyncConnection, *, raw_reads: bool = False) -> None:
        self._connection = connection
        # In a unit of work that only reads, plain reads go straight to asyncpg (adapters/sql/raw_reads.py).
        self._raw_reads = raw_reads

    async def add(self, customer: Customer) -> None:
        with domain_errors():
            await self._connection.execute(insert(customers).values(**column_values(customer)))

    async def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None:
        values = {"customer_id": customer_id}
        if self._raw_reads and not for_update:
            rows = await fetch(self._connection, _GET_COMPILED, values)
            return _customer(rows[0]) if rows else None
        # Lock only the customer: the joined users rows stay free for others.
        statement = _GET.with_for_update(of=customers) if for_update else _GET
        row = (await self._connection.execute(statement, values)).one_or_none()
        return None if row is None else _customer(row._mapping)

    async def update(self, customer: Customer) -> None:
        with domain_errors():
            await self._connection.execute(
                update(customers).where(customers.c.id == customer.id).values(**column_values(customer))
            )

    async def delete(self, customer_id: CustomerId) -> None:
        await self._connection.execute(delete(customers).where(customers.c.id == customer_id))

    async def list(self, query: CustomerListQuery) -> list[Customer]:
        statement, compiled = _list_statement(query.sort, query.descending, query.after is not None, bool(query.search))
        values = _list_values(query)
        if self._raw_reads:
            return [_customer(row) for row in await fetch(self._connection, compiled, values)]
        return [_customer(row._mapping) for row in await self._connection.execute(statement, values)]

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

    async def add_with_history(self, customer: Customer, created: CustomerChange) -> None:
        with domain_errors():
            await customer_writes.add_with_history(self._connection, customer, created)

    async def update_with_history(self, customer: Customer, change: CustomerChange, *, read_version: int) -> bool:
        with domain_errors():
            return await customer_writes.update_with_history(self._connection, customer, change, read_version)
