"""Customers in PostgreSQL, with keyset pages in every sort order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    delete,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.customers import writes
from adapters.sql.customers.pages import page_statement, page_values
from adapters.sql.customers.reads import (
    GET,
    GET_COMPILED,
    IN_TRASH,
    LIVE,
    SELECT,
    SELECT_TRASHED,
    any_of,
    customer_of,
    row_of,
    trashed_of,
)
from adapters.sql.customers.staging import copy_to_staging
from adapters.sql.customers.tables import customers
from adapters.sql.customers.writes import column_values
from adapters.sql.errors import domain_errors
from adapters.sql.raw_reads import fetch
from adapters.sql.rows import trusted
from application.ports.persistence import CustomerListQuery, CustomerRepository
from domain.customer_history import CustomerChange
from domain.customers import Customer, TrashedCustomer
from domain.users import UserRef
from domain.values import CustomerId


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
            rows = await fetch(self._connection, GET_COMPILED, values)
            return customer_of(rows[0]) if rows else None
        # Lock only the customer: the joined actors rows stay free for others.
        statement = GET.with_for_update(of=customers) if for_update else GET
        row = (await self._connection.execute(statement, values)).one_or_none()
        return None if row is None else customer_of(row._mapping)

    async def update(self, customer: Customer) -> None:
        with domain_errors():
            await self._connection.execute(
                update(customers).where(customers.c.id == customer.id).values(**column_values(customer))
            )

    async def delete(self, customer_id: CustomerId) -> None:
        await self._connection.execute(delete(customers).where(customers.c.id == customer_id))

    async def move_to_trash(self, customer_id: CustomerId, by: UserRef, at: datetime) -> None:
        await self._connection.execute(
            update(customers).where(customers.c.id == customer_id, LIVE).values(deleted_at=at, deleted_by=by.id)
        )

    async def get_trashed(self, customer_id: CustomerId, *, for_update: bool = False) -> TrashedCustomer | None:
        statement = SELECT_TRASHED.where(customers.c.id == customer_id)
        if for_update:
            statement = statement.with_for_update(of=customers)
        row = (await self._connection.execute(statement)).one_or_none()
        return None if row is None else trashed_of(row._mapping)

    async def restore(self, customer: Customer) -> None:
        await self._connection.execute(
            update(customers)
            .where(customers.c.id == customer.id, IN_TRASH)
            .values(deleted_at=None, deleted_by=None, **column_values(customer))
        )

    async def list_trash(self, limit: int, after: tuple[datetime, str] | None = None) -> list[TrashedCustomer]:
        statement = SELECT_TRASHED
        if after is not None:
            # A row-value comparison, so that the partial (deleted_at, id) index finds the page's start.
            statement = statement.where(tuple_(customers.c.deleted_at, customers.c.id) < tuple_(*after))
        statement = statement.order_by(customers.c.deleted_at.desc(), customers.c.id.desc()).limit(limit)
        return [trashed_of(row._mapping) for row in await self._connection.execute(statement)]

    async def purge_trash(self, deleted_before: datetime, limit: int) -> list[Customer]:
        expired = (
            select(customers.c.id)
            .where(IN_TRASH, customers.c.deleted_at < deleted_before)
            .order_by(customers.c.deleted_at, customers.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        purged = [
            row._mapping
            for row in await self._connection.execute(
                SELECT.where(customers.c.id.in_(expired)).with_for_update(of=customers)
            )
        ]
        if purged:
            await self._connection.execute(delete(customers).where(customers.c.id.in_([row["id"] for row in purged])))
        return [customer_of(row) for row in purged]

    async def get_many(self, customer_ids: Sequence[CustomerId], *, for_update: bool = False) -> list[Customer]:
        if not customer_ids:
            return []
        statement = SELECT.where(LIVE, any_of(customer_ids))
        if for_update:
            statement = statement.with_for_update(of=customers)
        return [customer_of(row._mapping) for row in await self._connection.execute(statement)]

    async def trashed_among(self, customer_ids: Sequence[CustomerId]) -> set[CustomerId]:
        if not customer_ids:
            return set()
        statement = select(customers.c.id).where(IN_TRASH, any_of(customer_ids))
        found: list[str] = list((await self._connection.execute(statement)).scalars())
        return {trusted(CustomerId, customer_id) for customer_id in found}

    async def add_many(self, customers_: Sequence[Customer]) -> None:
        if not customers_:
            return
        # COPY into a staging table, then one INSERT: the fastest way in, with the constraints still checked.
        staging = await copy_to_staging(self._connection, customers, [row_of(customer) for customer in customers_])
        columns = [column.name for column in customers.columns]
        with domain_errors():
            await self._connection.execute(
                insert(customers).from_select(columns, select(*(staging.c[name] for name in columns)))
            )

    async def update_many(self, customers_: Sequence[Customer]) -> None:
        if not customers_:
            return
        staging = await copy_to_staging(self._connection, customers, [row_of(customer) for customer in customers_])
        with domain_errors():
            await self._connection.execute(
                update(customers)
                .where(customers.c.id == staging.c.id)
                .values({name: staging.c[name] for name in column_values(customers_[0]) if name != "id"})
            )

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
            await writes.add_with_history(self._connection, customer, created)

    async def update_with_history(self, customer: Customer, change: CustomerChange, *, read_version: int) -> bool:
        with domain_errors():
            return await writes.update_with_history(self._connection, customer, change, read_version)

    async def list(self, query: CustomerListQuery) -> list[Customer]:
        statement, compiled = page_statement(query.sort, query.descending, query.after is not None, bool(query.search))
        values = page_values(query)
        if self._raw_reads:
            return [customer_of(row) for row in await fetch(self._connection, compiled, values)]
        return [customer_of(row._mapping) for row in await self._connection.execute(statement, values)]
