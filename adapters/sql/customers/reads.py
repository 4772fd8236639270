"""Reading customers in PostgreSQL: the select with its creator and updater names, and rows made back into customers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    any_,
    bindparam,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from adapters.sql.access.actor_tables import actors
from adapters.sql.customers.tables import customers
from adapters.sql.customers.writes import column_values
from adapters.sql.raw_reads import CompiledRead
from adapters.sql.rows import stored
from domain.customers import Customer, Photo, TrashedCustomer
from domain.users import UserRef
from domain.values import CustomerId, Email, Notes, PersonName, Phone

# Customers point at the users or API keys (actors) that created and last changed them; deleted ones
# still resolve, because neither is ever removed.
_creator = actors.alias("creator")
_updater = actors.alias("updater")
SELECT: Select[Any] = select(
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

# Every read but the trash's sees live customers only.
LIVE = customers.c.deleted_at.is_(None)
IN_TRASH = customers.c.deleted_at.is_not(None)
_deleter = actors.alias("deleter")
SELECT_TRASHED: Select[Any] = (
    SELECT.add_columns(customers.c.deleted_at, customers.c.deleted_by, _deleter.c.name.label("deleted_by_name"))
    .join_from(customers, _deleter, _deleter.c.id == customers.c.deleted_by)
    .where(IN_TRASH)
)


def row_of(customer: Customer) -> dict[str, Any]:
    """Every column of a live customer's row."""
    return {**column_values(customer), "deleted_at": None, "deleted_by": None}


def customer_of(row: Mapping[str, Any]) -> Customer:
    """A customer from a row of ``SELECT``: a SQLAlchemy row's mapping or an asyncpg record.

    Runs for every row of every page: the value objects are made without a call each (what ``trusted``
    does, inlined) and the entity positionally, which takes half the time of keywords and helper calls.
    """
    photo = None
    if row["photo_key"] is not None:
        photo = Photo(row["photo_key"], row["photo_thumbnail_key"], row["photo_content_type"])
    email, phone, notes = row["email"], row["phone"], row["notes"]
    return Customer(
        stored(CustomerId, row["id"]),
        stored(PersonName, row["name"]),
        stored(PersonName, row["surname"]),
        None if email is None else stored(Email, email),
        None if phone is None else stored(Phone, phone),
        None if notes is None else stored(Notes, notes),
        row["created_at"],
        UserRef(row["created_by"], row["created_by_name"]),
        row["updated_at"],
        UserRef(row["updated_by"], row["updated_by_name"]),
        row["version"],
        photo,
    )


def any_of(customer_ids: Sequence[CustomerId]) -> ColumnElement[bool]:
    """``id = ANY($1)``: one array parameter, however many ids (an import asks for up to 50,000)."""
    return customers.c.id == any_(bindparam("ids", [str(i) for i in customer_ids], type_=ARRAY(Text())))


def trashed_of(row: Mapping[str, Any]) -> TrashedCustomer:
    return TrashedCustomer(customer_of(row), row["deleted_at"], UserRef(row["deleted_by"], row["deleted_by_name"]))


GET = SELECT.where(LIVE, customers.c.id == bindparam("customer_id"))
GET_COMPILED = CompiledRead.of(GET)
