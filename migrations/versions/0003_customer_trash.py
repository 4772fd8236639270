"""Customer trash and erasure: a deleted customer waits in the trash; the history knows restorations and erasures.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Only expands: two nullable columns, a partial index, and a wider check on the history's kinds. Code that
does not know the trash reads a trashed customer as live, so deploy the code with this revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# History: applied in production before the two phases existed, before its release rolled out, hence "expand".
PHASE = "expand"

_KINDS_BEFORE = "kind IN ('created', 'updated', 'photo_changed', 'deleted')"
_KINDS_AFTER = "kind IN ('created', 'updated', 'photo_changed', 'deleted', 'restored', 'erased')"


def upgrade() -> None:
    op.add_column("customers", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("deleted_by", sa.Uuid(), nullable=True))
    op.create_foreign_key("fk_customers_deleted_by_users", "customers", "users", ["deleted_by"], ["id"])
    op.create_check_constraint(
        "ck_customers_trash_complete", "customers", "(deleted_at IS NULL) = (deleted_by IS NULL)"
    )
    op.create_index(
        "ix_customers_trash_deleted_at_id",
        "customers",
        ["deleted_at", "id"],
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )
    op.drop_constraint("ck_customer_changes_kind_known", "customer_changes", type_="check")
    op.create_check_constraint("ck_customer_changes_kind_known", "customer_changes", _KINDS_AFTER)


def downgrade() -> None:
    # Going back forgets the trash for good: trashed customers and the new history kinds are removed.
    op.execute("DELETE FROM customer_changes WHERE kind IN ('restored', 'erased')")
    op.drop_constraint("ck_customer_changes_kind_known", "customer_changes", type_="check")
    op.create_check_constraint("ck_customer_changes_kind_known", "customer_changes", _KINDS_BEFORE)
    op.execute("DELETE FROM customers WHERE deleted_at IS NOT NULL")
    op.drop_index("ix_customers_trash_deleted_at_id", table_name="customers")
    op.drop_constraint("ck_customers_trash_complete", "customers", type_="check")
    op.drop_constraint("fk_customers_deleted_by_users", "customers", type_="foreignkey")
    op.drop_column("customers", "deleted_by")
    op.drop_column("customers", "deleted_at")
