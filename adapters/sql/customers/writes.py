"""A customer's create and change written together with its history entry, in one statement each.

A data-modifying CTE writes the customer row and the history insert reads what it returned, so the
history row exists exactly when the customer row was written. One statement is atomic by itself:
no BEGIN and COMMIT round trips around it. The change carries its revision check in the ``WHERE``
clause (same version, same creation time), so no row lock is held between reading and writing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Insert, Update, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.customers.tables import customer_changes, customers
from adapters.sql.raw_reads import CompiledRead, fetch
from domain.customer_history import CustomerChange
from domain.customers import Customer, sort_key

_WRITTEN = (
    "name",
    "surname",
    "email",
    "phone",
    "notes",
    "name_key",
    "surname_key",
    "search_text",
    "photo_key",
    "photo_thumbnail_key",
    "photo_content_type",
    "updated_at",
    "updated_by",
    "version",
)
_SET_ONCE = ("id", "created_at", "created_by")


def column_values(customer: Customer) -> dict[str, Any]:
    """The customer's row, column by column."""
    photo = customer.photo
    return {
        "id": customer.id,
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


def _new(column: str) -> Any:
    # Bound values are named new_<column>: SQLAlchemy keeps the plain column names for itself.
    return bindparam(f"new_{column}", type_=customers.c[column].type)


def _with_history(write: Insert | Update) -> tuple[Insert, CompiledRead]:
    """``write`` (returning the customer's id) followed by the history row of that id, as one statement
    that returns the id when both were written and no row when the write matched nothing; as SQLAlchemy
    runs it (in a transaction) and as asyncpg runs it (on its own)."""
    written = write.returning(customers.c.id).cte("written")
    history = insert(customer_changes).from_select(
        ["customer_id", "kind", "actor_id", "at", "changes"],
        select(
            written.c.id,
            bindparam("change_kind", type_=customer_changes.c.kind.type),
            bindparam("change_actor", type_=customer_changes.c.actor_id.type),
            bindparam("change_at", type_=customer_changes.c.at.type),
            bindparam("change_fields", type_=JSONB),
        ),
    )
    statement = history.returning(customer_changes.c.customer_id)
    return statement, CompiledRead.of(statement)


_ADD = _with_history(insert(customers).values({column: _new(column) for column in _SET_ONCE + _WRITTEN}))
_UPDATE = _with_history(
    update(customers)
    .where(
        customers.c.id == _new("id"),
        customers.c.version == bindparam("read_version", type_=customers.c.version.type),
        customers.c.created_at == _new("created_at"),
        # A customer moved to the trash after it was read keeps its version: it must not be changed.
        customers.c.deleted_at.is_(None),
    )
    .values({column: _new(column) for column in _WRITTEN})
)


def _arguments(customer: Customer, change: CustomerChange, *, raw: bool) -> dict[str, Any]:
    values = {f"new_{column}": value for column, value in column_values(customer).items()}
    values.update(
        change_kind=change.kind,
        change_actor=change.by.id,
        change_at=change.at,
    )
    fields = [{"field": f.field, "old": f.old, "new": f.new} for f in change.changes]
    # jsonb goes to asyncpg as its text (SQLAlchemy's codec on the connection sends strings as they are);
    # SQLAlchemy serialises it itself.
    values["change_fields"] = json.dumps(fields) if raw else fields
    return values


async def _run(connection: AsyncConnection, write: tuple[Insert, CompiledRead], values: dict[str, Any]) -> bool:
    """Whether ``write`` wrote; on asyncpg directly unless a transaction is open (then SQLAlchemy's, to be in it)."""
    statement, compiled = write
    if connection.in_transaction():
        return (await connection.execute(statement, values)).first() is not None
    return bool(await fetch(connection, compiled, values))


async def add_with_history(connection: AsyncConnection, customer: Customer, created: CustomerChange) -> None:
    await _run(connection, _ADD, _arguments(customer, created, raw=not connection.in_transaction()))


async def update_with_history(
    connection: AsyncConnection, customer: Customer, change: CustomerChange, read_version: int
) -> bool:
    values = _arguments(customer, change, raw=not connection.in_transaction())
    values["read_version"] = read_version
    return await _run(connection, _UPDATE, values)
