"""Customer change history in PostgreSQL: appended in the change's transaction, read newest first in keyset pages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.sql.access.actor_tables import actors
from adapters.sql.customers.tables import customer_changes
from adapters.sql.rows import trusted
from application.ports.persistence import CustomerHistory
from domain.customer_history import CHANGE_KINDS, ChangeKind, CustomerChange, FieldChange
from domain.users import UserRef
from domain.values import CustomerId

# Actors are users and API keys, which are never removed: the join always finds them, with their current name.
_actor = actors.alias("actor")
_SELECT: Select[Any] = select(
    customer_changes.c.id,
    customer_changes.c.customer_id,
    customer_changes.c.kind,
    customer_changes.c.actor_id,
    _actor.c.name.label("actor_name"),
    customer_changes.c.at,
    customer_changes.c.changes,
).select_from(customer_changes.join(_actor, _actor.c.id == customer_changes.c.actor_id))


def _changes_json(change: CustomerChange) -> list[dict[str, str | None]]:
    return [{"field": field.field, "old": field.old, "new": field.new} for field in change.changes]


def _kind(value: str) -> ChangeKind:
    for kind in CHANGE_KINDS:  # the check constraint keeps any other value out
        if value == kind:
            return kind
    raise ValueError(f"unknown customer change kind {value!r}")


def _change(row: Row[Any]) -> CustomerChange:
    return CustomerChange(
        customer_id=trusted(CustomerId, row.customer_id),
        kind=_kind(row.kind),
        by=UserRef(row.actor_id, row.actor_name),
        at=row.at,
        changes=tuple(FieldChange(item["field"], item["old"], item["new"]) for item in row.changes),
        id=row.id,
    )


class SqlCustomerHistory(CustomerHistory):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, change: CustomerChange) -> None:
        await self._connection.execute(
            insert(customer_changes).values(
                customer_id=change.customer_id,
                kind=change.kind,
                actor_id=change.by.id,
                at=change.at,
                changes=_changes_json(change),
            )
        )

    async def record_many(self, changes: Sequence[CustomerChange]) -> None:
        if not changes:
            return
        # COPY straight into the history: an import records up to 50,000 changes, and a row of the
        # history has no constraint that a valid change could break.
        raw = await self._connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            customer_changes.name,
            records=[
                (change.customer_id, change.kind, change.by.id, change.at, json.dumps(_changes_json(change)))
                for change in changes
            ],
            columns=["customer_id", "kind", "actor_id", "at", "changes"],
        )

    async def erase(self, customer_id: CustomerId) -> None:
        await self._connection.execute(delete(customer_changes).where(customer_changes.c.customer_id == customer_id))

    async def list(
        self, customer_id: CustomerId, limit: int, after: tuple[datetime, int] | None = None
    ) -> list[CustomerChange]:
        statement = _SELECT.where(customer_changes.c.customer_id == customer_id)
        if after is not None:
            # A row-value comparison, so that the (customer_id, at DESC, id DESC) index finds the page's start.
            statement = statement.where(tuple_(customer_changes.c.at, customer_changes.c.id) < tuple_(*after))
        statement = statement.order_by(customer_changes.c.at.desc(), customer_changes.c.id.desc()).limit(limit)
        result = await self._connection.execute(statement)
        return [_change(row) for row in result]
