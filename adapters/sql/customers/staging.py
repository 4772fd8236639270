"""Bulk writes: COPY rows into a temporary staging table, so that one set-based statement can move them.

COPY is the fastest way into PostgreSQL (one round trip, binary rows, no statement per row). The
staging table has the target's columns but none of its constraints or indexes, so loading it cannot
fail halfway; the statement that moves the rows into the real table checks every constraint at once.
It lives in the transaction only (``ON COMMIT DROP``): a failed import leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import count
from typing import Any

from sqlalchemy import Table, TableClause, column, table, text
from sqlalchemy.ext.asyncio import AsyncConnection

_names = count(1)
# A bulk write moves up to an import's whole file in one statement: for the rest of its transaction each statement
# may run this many times CRM_DB_STATEMENT_TIMEOUT_SECONDS (0 stays 0, no limit) (decision record 0034).
BULK_TIMEOUT_FACTOR = 12
_LONGER_TIMEOUT = text(
    "SELECT set_config('statement_timeout',"
    " (extract(epoch FROM current_setting('statement_timeout')::interval) * 1000 * :factor)::bigint::text, true)"
)


async def copy_to_staging(connection: AsyncConnection, like: Table, rows: Sequence[Mapping[str, Any]]) -> TableClause:
    """A new staging table shaped like ``like``, holding ``rows`` (each a mapping of every column)."""
    name = f"staging_{like.name}_{next(_names)}"
    columns = [column.name for column in like.columns]
    await connection.execute(_LONGER_TIMEOUT, {"factor": BULK_TIMEOUT_FACTOR})
    await connection.execute(text(f"CREATE TEMPORARY TABLE {name} (LIKE {like.name}) ON COMMIT DROP"))
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        name, records=[tuple(row[column] for column in columns) for row in rows], columns=columns
    )
    return table(name, *(column(name) for name in columns))
