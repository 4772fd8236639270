"""What each reference does per request over its asyncpg pool: the SQL the service's repositories run
(the customer joined to the names of its creator and last editor), and for writes the same work as the
service's (the customer row and its history row, in one statement each).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
import msgspec

from bench.reference_shapes import (
    DEFAULT_SORT,
    ID_PATTERN,
    PREFIX,
    CustomerCreate,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    HttpError,
    contains_pattern,
    customer_out,
    decode_cursor,
    encode_cursor,
    etag,
    search_key,
)

UPDATE_ATTEMPTS = 3
_COLUMNS = """c.id, c.name, c.surname, c.email, c.phone, c.notes, c.created_at, c.created_by,
    cr.name AS created_by_name, c.updated_at, c.updated_by, up.name AS updated_by_name, c.version"""
_JOINS = "JOIN users cr ON cr.id = c.created_by JOIN users up ON up.id = c.updated_by"
GET_ONE = f"SELECT {_COLUMNS} FROM customers c {_JOINS} WHERE c.id = $1"
_ORDER = "ORDER BY c.created_at DESC, c.id DESC LIMIT $1"
_FROM = f"SELECT {_COLUMNS} FROM customers c {_JOINS}"
# $1 the limit; $2, $3 the position after which the page starts; the search pattern last.
LIST_FIRST = f"{_FROM} {_ORDER}"
LIST_AFTER = f"{_FROM} WHERE (c.created_at, c.id) < ($2, $3) {_ORDER}"
SEARCH_FIRST = f"{_FROM} WHERE c.search_text LIKE $2 ESCAPE '\\' {_ORDER}"
SEARCH_AFTER = f"{_FROM} WHERE c.search_text LIKE $4 ESCAPE '\\' AND (c.created_at, c.id) < ($2, $3) {_ORDER}"
# The same work as the service's writes, as one statement each (atomic by itself): the customer row and its
# history row. The update locks the row, bumps its version and records the fields that changed.
INSERT = f"""WITH c AS (
    INSERT INTO customers (id, name, surname, email, phone, notes, name_key, surname_key, search_text,
        created_at, created_by, updated_at, updated_by, version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $11, 1)
    RETURNING *),
h AS (
    INSERT INTO customer_changes (customer_id, kind, actor_id, at, changes)
    SELECT c.id, 'created', $11, $10, $12::jsonb FROM c)
SELECT {_COLUMNS} FROM c {_JOINS}"""
UPDATE = f"""WITH old AS (
    SELECT id, notes, phone, version FROM customers WHERE id = $1 FOR UPDATE),
c AS (
    UPDATE customers SET
        notes = CASE WHEN $2 THEN $3 ELSE customers.notes END,
        phone = CASE WHEN $4 THEN $5 ELSE customers.phone END,
        updated_at = $6, updated_by = $7, version = customers.version + 1
    FROM old WHERE customers.id = old.id AND customers.version = old.version
    RETURNING customers.*),
h AS (
    INSERT INTO customer_changes (customer_id, kind, actor_id, at, changes)
    SELECT c.id, 'updated', $7, $6, (
        SELECT coalesce(jsonb_agg(jsonb_build_object('field', f.field, 'old', f.old, 'new', f.new)), '[]'::jsonb)
        FROM (VALUES ('notes', old.notes, c.notes), ('phone', old.phone, c.phone)) AS f(field, old, new)
        WHERE f.old IS DISTINCT FROM f.new)
    FROM c, old)
SELECT {_COLUMNS} FROM c {_JOINS}"""


async def get_customer(pool: asyncpg.Pool, customer_id: str) -> tuple[CustomerOut, bytes]:
    row = await pool.fetchrow(GET_ONE, customer_id)
    if row is None:
        raise HttpError(404, "No such customer.")
    return customer_out(row), etag(row)


async def list_customers(pool: asyncpg.Pool, query: dict[str, str]) -> tuple[CustomerPage, bytes | None]:
    """A page in the default order, and its Link header when there is a next page."""
    limit = int(query.get("limit", "20"))
    if not 1 <= limit <= 100 or query.get("sort", DEFAULT_SORT) != DEFAULT_SORT:
        raise HttpError(400, "Unsupported page.")
    cursor = query.get("cursor")
    q = query.get("q")
    arguments: list[Any] = [limit + 1]
    if cursor is not None:
        arguments.extend(decode_cursor(cursor))
    if q:
        arguments.append(contains_pattern(search_key(q)))
        statement = SEARCH_AFTER if cursor is not None else SEARCH_FIRST
    else:
        statement = LIST_AFTER if cursor is not None else LIST_FIRST
    rows = await pool.fetch(statement, *arguments)
    next_cursor = None
    link = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(DEFAULT_SORT, last["created_at"].isoformat(), last["id"])
        page_query = urlencode([*((k, v) for k, v in query.items() if k != "cursor"), ("cursor", next_cursor)])
        link = f'<{PREFIX}?{page_query}>; rel="next"'.encode()
    return CustomerPage([customer_out(row) for row in rows], next_cursor), link


async def create_customer(pool: asyncpg.Pool, user_id: UUID, body: bytes) -> tuple[CustomerOut, bytes]:
    try:
        new = msgspec.json.decode(body, type=CustomerCreate)
    except msgspec.ValidationError as error:
        raise HttpError(422, str(error)) from error
    name, surname = new.name.strip(), new.surname.strip()
    if not ID_PATTERN.fullmatch(new.id) or not name or not surname:
        raise HttpError(422, "Invalid customer.")
    given = {"name": name, "surname": surname, "email": new.email, "phone": new.phone, "notes": new.notes}
    changes = json.dumps([{"field": f, "old": None, "new": v} for f, v in given.items() if v is not None])
    now = datetime.now(UTC)
    search_text = search_key(new.id, name, surname, new.email)
    try:
        row = await pool.fetchrow(INSERT, new.id, name, surname, new.email, new.phone, new.notes, search_key(name),
                                  search_key(surname), search_text, now, user_id, changes)  # fmt: skip
    except asyncpg.UniqueViolationError as error:
        raise HttpError(409, "A customer with this id exists.") from error
    assert row is not None
    return customer_out(row), etag(row)


async def update_customer(
    pool: asyncpg.Pool, user_id: UUID, customer_id: str, body: bytes
) -> tuple[CustomerOut, bytes]:
    try:
        patch = msgspec.json.decode(body, type=CustomerPatch)
    except msgspec.ValidationError as error:
        raise HttpError(422, str(error)) from error
    notes_set, phone_set = patch.notes is not msgspec.UNSET, patch.phone is not msgspec.UNSET
    # A concurrent change of the same row can make the version check match nothing: try again, as the
    # service does (it retries under the row lock).
    for _ in range(UPDATE_ATTEMPTS):
        row = await pool.fetchrow(UPDATE, customer_id, notes_set, patch.notes if notes_set else None, phone_set,
                                  patch.phone if phone_set else None, datetime.now(UTC), user_id)  # fmt: skip
        if row is not None:
            return customer_out(row), etag(row)
    raise HttpError(404, "No such customer.")
