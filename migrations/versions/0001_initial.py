"""Initial schema: users, customers and their change history, sign-in sessions, refresh tokens, failed sign-ins.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Written out in full rather than imported from ``adapters.sql.tables``: a migration describes the
schema as it was at this revision, and must not change when the tables module does. A test checks
that the migrated schema equals the tables module.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# History: applied in production before the two phases existed, before its release rolled out, hence "expand".
PHASE = "expand"


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Trigram indexes serve the customers' "contains" search.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("email_key", sa.Text(collation="C"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        _timestamp("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.CheckConstraint("version >= 1", name="ck_users_version_positive"),
    )
    op.create_index(
        "uq_users_email_key_active",
        "users",
        ["email_key"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_users_active_email_key_id",
        "users",
        ["email_key", "id"],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )

    op.create_table(
        "customers",
        sa.Column("id", sa.Text(collation="C"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("surname", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("name_key", sa.Text(collation="C"), nullable=False),
        sa.Column("surname_key", sa.Text(collation="C"), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("photo_key", sa.Text(), nullable=True),
        sa.Column("photo_thumbnail_key", sa.Text(), nullable=True),
        sa.Column("photo_content_type", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        _timestamp("updated_at"),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_customers_created_by_users"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name="fk_customers_updated_by_users"),
        sa.CheckConstraint("version >= 1", name="ck_customers_version_positive"),
        sa.CheckConstraint(
            "(photo_key IS NULL) = (photo_thumbnail_key IS NULL)"
            " AND (photo_key IS NULL) = (photo_content_type IS NULL)",
            name="ck_customers_photo_complete",
        ),
    )
    op.create_index("ix_customers_created_at_id", "customers", ["created_at", "id"])
    op.create_index("ix_customers_updated_at_id", "customers", ["updated_at", "id"])
    op.create_index("ix_customers_name_key_id", "customers", ["name_key", "id"])
    op.create_index("ix_customers_surname_key_id", "customers", ["surname_key", "id"])
    op.create_index(
        "ix_customers_search_text_trgm",
        "customers",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )

    op.create_table(
        "customer_changes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Text(collation="C"), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        _timestamp("at"),
        sa.Column("changes", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_changes"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_customer_changes_actor_id_users"),
        sa.CheckConstraint(
            "kind IN ('created', 'updated', 'photo_changed', 'deleted')", name="ck_customer_changes_kind_known"
        ),
    )
    op.create_index(
        "ix_customer_changes_customer_id_at_id",
        "customer_changes",
        ["customer_id", sa.text("at DESC"), sa.text("id DESC")],
    )

    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _timestamp("window_started_at"),
        sa.PrimaryKeyConstraint("key", name="pk_sign_in_failures"),
        sa.CheckConstraint("failures >= 1", name="ck_sign_in_failures_failures_positive"),
    )
    op.create_index("ix_sign_in_failures_window_started_at", "sign_in_failures", ["window_started_at"])

    op.create_table(
        "sign_in_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sign_in_sessions_user_id_users"),
    )
    op.create_index("ix_sign_in_sessions_user_id", "sign_in_sessions", ["user_id"])

    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        _timestamp("issued_at"),
        _timestamp("expires_at"),
        _timestamp("rotated_at", nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name="pk_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sign_in_sessions.id"],
            name="fk_refresh_tokens_session_id_sign_in_sessions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes and constraints.
    op.drop_table("refresh_tokens")
    op.drop_table("sign_in_sessions")
    op.drop_table("sign_in_failures")
    op.drop_table("customer_changes")
    op.drop_table("customers")
    op.drop_table("users")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
