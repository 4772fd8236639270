"""Reads (and the single-statement customer writes) run straight on the pool's asyncpg connection, for the
hottest queries.

SQLAlchemy still writes the SQL (the table definitions stay the one source of truth): each statement
shape is compiled once for the asyncpg dialect, and each run only binds values and fetches. That
skips SQLAlchemy's per-execution work (parameter processing, result objects), about a third of the
CPU of a read. Only for units of work that read: outside a transaction there is nothing to bypass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

_DIALECT = asyncpg_dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class CompiledRead:
    """A statement as asyncpg runs it: SQL with $1, $2… and the names of the values in that order."""

    sql: str
    parameter_names: tuple[str, ...]

    @classmethod
    def of(cls, statement: ClauseElement) -> CompiledRead:
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        return cls(str(compiled), tuple(compiled.positiontup or ()))

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] for name in self.parameter_names]


async def fetch(connection: AsyncConnection, read: CompiledRead, values: Mapping[str, Any]) -> Sequence[Any]:
    """The rows (asyncpg Records: mappings by column name) of ``read`` with ``values``."""
    sync = connection.sync_connection
    if sync is not None and not sync.closed and not sync.invalidated:
        # A live checked-out connection needs no I/O to hand over its DBAPI connection; the async
        # ``get_raw_connection()`` would start a greenlet for that attribute read on every query.
        raw = sync.connection
    else:
        raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    rows: Sequence[Any] = await driver.fetch(read.sql, *read.arguments(values))
    return rows
