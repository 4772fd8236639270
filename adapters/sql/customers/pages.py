"""A page of customers in PostgreSQL: the keyset query for each sort order, built and compiled once."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    tuple_,
)

from adapters.sql.customers.reads import LIVE, SELECT
from adapters.sql.customers.tables import customers
from adapters.sql.raw_reads import CompiledRead
from adapters.sql.rows import LIKE_ESCAPE, contains_pattern
from application.ports.persistence import CustomerListQuery

# The column each sort order uses; names sort by their search key (case and accents ignored).
_SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": customers.c.name_key,
    "surname": customers.c.surname_key,
    "created_at": customers.c.created_at,
    "updated_at": customers.c.updated_at,
    "id": customers.c.id,
}


@cache
def page_statement(sort: str, descending: bool, after: bool, search: bool) -> tuple[Select[Any], CompiledRead]:
    """The page query for one shape of ``CustomerListQuery``, built and compiled once.

    Order by the sort column then id, and start strictly after the position ``(after_value, after_id)``
    in that order. The row-value comparison ``(column, id) > (value, id)`` is what lets the (column, id)
    index find the start of any page directly, so the last page costs what the first does.
    """
    column = _SORT_COLUMNS[sort]
    statement = SELECT.where(LIVE)
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


def page_values(query: CustomerListQuery) -> dict[str, Any]:
    values: dict[str, Any] = {"limit": query.limit}
    if query.search:
        values["pattern"] = contains_pattern(query.search)
    if query.after is not None:
        values["after_value"], values["after_id"] = query.after
    return values
