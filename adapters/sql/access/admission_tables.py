"""The replicas' exchange of admitted requests (``admission_exchange.py``).

UNLOGGED: written about once a second by every replica, so they skip the WAL. A caller's rows are kept for its
burst window and a slot more (two minutes by default), an API key's for a day and a slot, so that a process that
starts charges them. After a crash PostgreSQL empties them: each caller's window counts unshared once, and every
API key's day starts afresh.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, PrimaryKeyConstraint, Table, Text

from adapters.sql.schema import metadata, timestamp

# Each replica's total of admitted requests per caller and slot of wall-clock time.
rate_limit_admissions = Table(
    "rate_limit_admissions",
    metadata,
    Column("replica", Text, nullable=False),
    Column("caller", Text, nullable=False),
    Column("slot", BigInteger, nullable=False),
    Column("admitted", BigInteger, nullable=False),
    PrimaryKeyConstraint("replica", "caller", "slot"),
    Index(None, "slot"),
    prefixes=["UNLOGGED"],
)

# When each replica last exchanged: the live ones share each caller's quota.
rate_limit_replicas = Table(
    "rate_limit_replicas",
    metadata,
    Column("replica", Text, nullable=False),
    timestamp("seen_at"),
    PrimaryKeyConstraint("replica"),
    prefixes=["UNLOGGED"],
)
