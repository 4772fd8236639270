"""Fair use: the replicas' exchange of admitted requests.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Two new UNLOGGED tables (expand: the previous release ignores them). ``rate_limit_admissions`` holds each
replica's count of admitted requests per caller and minute, ``rate_limit_replicas`` when each replica last
exchanged (adapters/sql/access/admission_exchange.py). Their rows live for two minutes; UNLOGGED skips the WAL,
and PostgreSQL empties them after a crash, which the limiter survives (decision record 0033).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PHASE = "expand"


def upgrade() -> None:
    op.create_table(
        "rate_limit_admissions",
        sa.Column("replica", sa.Text(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("admitted", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("replica", "caller", "slot", name="pk_rate_limit_admissions"),
        prefixes=["UNLOGGED"],
    )
    # A new, empty table: nothing to lock for long, so no CONCURRENTLY (which cannot run in the transaction).
    op.create_index("ix_rate_limit_admissions_slot", "rate_limit_admissions", ["slot"])
    op.create_table(
        "rate_limit_replicas",
        sa.Column("replica", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("replica", name="pk_rate_limit_replicas"),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("rate_limit_replicas")
    op.drop_index("ix_rate_limit_admissions_slot", table_name="rate_limit_admissions")
    op.drop_table("rate_limit_admissions")
