"""DDL that keeps the service serving while it runs on tables that already hold data.

Use these from a migration's ``upgrade()`` instead of ``op.create_index`` / ``op.create_foreign_key`` /
``op.create_check_constraint`` on an existing table (squawk, in ``make lint``, flags the plain forms):

- ``create_index_concurrently``: ``CREATE INDEX CONCURRENTLY IF NOT EXISTS`` outside the revision's transaction
  (PostgreSQL refuses it inside one); reads and writes go on while it builds. A build that failed midway leaves an
  INVALID index behind, which is dropped first, so running the revision again is safe.
- ``add_foreign_key`` / ``add_check``: the constraint is added ``NOT VALID`` (a brief lock: new rows are checked
  from then on), committed, then ``VALIDATE CONSTRAINT`` scans the existing rows under a lock that lets reads and
  writes go on. Both steps are safe to repeat. ``validate_constraint`` alone validates one added earlier.
- ``acknowledged``: a statement squawk flags, run on purpose (a contract revision's drop), with the reason.

The steps outside the transaction lift the session's ``statement_timeout`` (they block nobody, and take as long as
the table is large); the ``lock_timeout`` stays. ``Irreversible`` is what a ``downgrade()`` raises when it cannot
go back (docs/deployment.md, "Migrations").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from alembic import context, op
from sqlalchemy import text

from adapters.sql.migration_limits import MigrationLimits


class Irreversible(RuntimeError):
    """A revision whose downgrade would lose or invent data: it says which and why, instead of half-going back."""

    def __init__(self, revision: str, why: str) -> None:
        super().__init__(f"Revision {revision} cannot be downgraded: {why}")


def _statement_timeout() -> str:
    limits = context.config.attributes.get("limits")
    if not isinstance(limits, MigrationLimits):
        limits = MigrationLimits.from_environment()
    return f"'{round(limits.statement_timeout_seconds * 1000)}ms'"


@contextmanager
def _outside_the_transaction() -> Iterator[None]:
    """Commit what the revision did so far, then run in autocommit without the statement timeout."""
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        yield
        op.execute(f"SET statement_timeout = {_statement_timeout()}")


def _online() -> bool:
    return not context.is_offline_mode()


def create_index_concurrently(
    name: str,
    table: str,
    columns: Sequence[str],
    *,
    unique: bool = False,
    using: str | None = None,
    where: str | None = None,
) -> None:
    """``columns`` are SQL expressions (``"email"``, ``"lower(name)"``, ``"search_text gin_trgm_ops"``)."""
    statement = " ".join(
        part
        for part in (
            "CREATE UNIQUE INDEX" if unique else "CREATE INDEX",
            f"CONCURRENTLY IF NOT EXISTS {name} ON {table}",
            f"USING {using}" if using else "",
            f"({', '.join(columns)})",
            f"WHERE {where}" if where else "",
        )
        if part
    )
    with _outside_the_transaction():
        if _online():
            invalid = op.get_bind().execute(
                text("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"), {"name": name}
            )
            if invalid.scalar():
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute(statement)


def drop_index_concurrently(name: str) -> None:
    """For a contract revision, or the ``downgrade()`` of one that created an index concurrently."""
    with _outside_the_transaction():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def _constraint_exists(table: str, name: str) -> bool:
    if not _online():
        return False
    found = op.get_bind().execute(
        text("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(:table) AND conname = :name"),
        {"table": table, "name": name},
    )
    return found.first() is not None


def validate_constraint(table: str, name: str) -> None:
    with _outside_the_transaction():
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def add_foreign_key(
    name: str,
    table: str,
    columns: Sequence[str],
    referred_table: str,
    referred_columns: Sequence[str],
    *,
    ondelete: str | None = None,
) -> None:
    if not _constraint_exists(table, name):
        action = f" ON DELETE {ondelete}" if ondelete else ""
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({', '.join(columns)})"
            f" REFERENCES {referred_table} ({', '.join(referred_columns)}){action} NOT VALID"
        )
    validate_constraint(table, name)


def add_check(name: str, table: str, condition: str) -> None:
    if not _constraint_exists(table, name):
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID")
    validate_constraint(table, name)


def acknowledged(statement: str, *, rule: str, why: str) -> None:
    """Run a statement that squawk flags, for a reason this revision states: typically a contract revision
    dropping what no running release uses any more. The reason and squawk's ignore mark travel with the statement
    into the offline SQL, so that the lint reads them next to it; the expand rules still apply."""
    op.execute(f"-- {why}\n-- squawk-ignore {rule}\n{statement}")
