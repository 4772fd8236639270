"""Idempotency records in PostgreSQL: each operation one autocommit statement, shared by every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, LargeBinary, PrimaryKeyConstraint, Table, Text, delete, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.sql.schema import BYTE_ORDER, metadata, timestamp
from application.ports.idempotency import IdempotencyRecord, IdempotencyRecords, StoredAnswer

# The first answer to each request sent with an Idempotency-Key, kept for a day.
records = idempotency_records = Table(
    "idempotency_records",
    metadata,
    # The signed-in user's id.
    Column("caller", Text(collation=BYTE_ORDER), nullable=False),
    Column("key", Text(collation=BYTE_ORDER), nullable=False),
    Column("fingerprint", Text, nullable=False),
    timestamp("created_at"),
    # NULL while the first request runs.
    Column("status", Integer, nullable=True),
    Column("headers", JSONB, nullable=True),
    Column("body", LargeBinary, nullable=True),
    PrimaryKeyConstraint("caller", "key", name="pk_idempotency_records"),
    Index("ix_idempotency_records_created_at", "created_at"),
)


class SqlIdempotencyRecords(IdempotencyRecords):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def claim(
        self, caller: str, key: str, fingerprint: str, now: datetime, expired_before: datetime
    ) -> IdempotencyRecord | None:
        fresh = {"fingerprint": fingerprint, "created_at": now, "status": None, "headers": None, "body": None}
        statement = (
            insert(records)
            .values(caller=caller, key=key, **fresh)
            # A record older than a day has expired: the key starts afresh.
            .on_conflict_do_update(
                index_elements=[records.c.caller, records.c.key],
                set_=fresh,
                where=records.c.created_at < expired_before,
            )
            .returning(records.c.caller)
        )
        async with self._engine.connect() as connection:
            if (await connection.execute(statement)).first() is not None:
                return None
            row = (
                await connection.execute(
                    select(records.c.fingerprint, records.c.status, records.c.headers, records.c.body).where(
                        records.c.caller == caller, records.c.key == key
                    )
                )
            ).first()
        if row is None:  # released in between: claim again
            return await self.claim(caller, key, fingerprint, now, expired_before)
        answer = None if row.status is None else StoredAnswer(row.status, dict(row.headers), bytes(row.body))
        return IdempotencyRecord(row.fingerprint, answer)

    async def complete(self, caller: str, key: str, answer: StoredAnswer) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(
                update(records)
                .where(records.c.caller == caller, records.c.key == key)
                .values(status=answer.status, headers=answer.headers, body=answer.body)
            )

    async def release(self, caller: str, key: str) -> None:
        async with self._engine.connect() as connection:
            await connection.execute(
                delete(records).where(records.c.caller == caller, records.c.key == key, records.c.status.is_(None))
            )

    async def sweep(self, expired_before: datetime) -> int:
        async with self._engine.connect() as connection:
            result = await connection.execute(delete(records).where(records.c.created_at < expired_before))
        return int(result.rowcount)
