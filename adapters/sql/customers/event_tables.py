"""The live changes' tables (migration 0008): each customer change as an event, and the commit order of them.

Both are written by triggers only, in the transaction of the change; the service reads them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sql.schema import metadata, timestamp

# One row per writing transaction; ``position`` is given at its commit, in commit order (see the migration).
customer_event_commits = Table(
    "customer_event_commits",
    metadata,
    Column("xid", BigInteger, nullable=False, autoincrement=False),
    Column("position", BigInteger, nullable=True),
    timestamp("committed_at", nullable=True),
    PrimaryKeyConstraint("xid", name="pk_customer_event_commits"),
    UniqueConstraint("position", name="uq_customer_event_commits_position"),
    # What is older than the replay window goes (the hub's pruning).
    Index("ix_customer_event_commits_committed_at", "committed_at"),
)

# One row per history row, removed with it (an erasure): the webhook body plus the photo's storage keys.
customer_events = Table(
    "customer_events",
    metadata,
    Column("change_id", BigInteger, nullable=False, autoincrement=False),
    Column("xid", BigInteger, nullable=False, autoincrement=False),
    Column("type", Text, nullable=False),
    timestamp("occurred_at"),
    Column("data", JSONB, nullable=False),
    Column("photo_key", Text, nullable=True),
    Column("photo_thumbnail_key", Text, nullable=True),
    Column("photo_content_type", Text, nullable=True),
    PrimaryKeyConstraint("change_id", name="pk_customer_events"),
    ForeignKeyConstraint(
        ["change_id"],
        ["customer_changes.id"],
        name="fk_customer_events_change_id_customer_changes",
        ondelete="CASCADE",
    ),
    ForeignKeyConstraint(
        ["xid"],
        ["customer_event_commits.xid"],
        name="fk_customer_events_xid_customer_event_commits",
        ondelete="CASCADE",
    ),
    # A commit's events, in the order they were recorded.
    Index("ix_customer_events_xid_change_id", "xid", "change_id"),
)
