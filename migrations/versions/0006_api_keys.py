"""API keys, and actors: customers point at the user or the API key that changed them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

- ``actors`` holds everyone who can change a customer, with their current name: a row per user (copied here
  for existing users) and per API key, added and renamed by triggers on ``users`` and ``api_keys``. The
  customers' ``created_by``/``updated_by``/``deleted_by`` and the history's ``actor_id`` now refer to it, and
  the customer webhook events take the names from it.
- ``api_keys``: keys stored as SHA-256, never removed (a deleted key keeps its name for what it wrote).
- A key deleted, expired early, renamed or re-scoped is announced on ``crm_auth_changes`` as ``api_key:<id>``
  (``all`` on truncation), like sessions and users in 0002, so that every replica's actor cache forgets it.

Downgrading fails while a customer or a history entry names an API key: those rows have no user to point at.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# History: applied in production before the two phases existed, before its release rolled out, hence "expand".
PHASE = "expand"

_ACTOR_COLUMNS = (("customers", "created_by"), ("customers", "updated_by"), ("customers", "deleted_by"))
_HISTORY_ACTOR = ("customer_changes", "actor_id")

_RECORD_ACTOR = """
CREATE FUNCTION crm_record_actor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO actors (id, name) VALUES (NEW.id, NEW.name) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name;
    RETURN NULL;
END
$$
"""

_TRIGGERS = {
    "trg_users_actor": "AFTER INSERT OR UPDATE OF name ON users FOR EACH ROW EXECUTE FUNCTION crm_record_actor()",
    "trg_api_keys_actor": "AFTER INSERT OR UPDATE OF name ON api_keys FOR EACH ROW EXECUTE FUNCTION crm_record_actor()",
    "trg_api_keys_auth_update": "AFTER UPDATE ON api_keys FOR EACH ROW WHEN ("
    "OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at"
    " OR OLD.scopes IS DISTINCT FROM NEW.scopes OR OLD.name IS DISTINCT FROM NEW.name"
    " OR OLD.key_hash IS DISTINCT FROM NEW.key_hash) EXECUTE FUNCTION crm_notify_auth_change('api_key')",
    "trg_api_keys_auth_delete": "AFTER DELETE ON api_keys FOR EACH ROW"
    " EXECUTE FUNCTION crm_notify_auth_change('api_key')",
    "trg_api_keys_auth_truncate": "AFTER TRUNCATE ON api_keys FOR EACH STATEMENT"
    " EXECUTE FUNCTION crm_notify_auth_change('all')",
}


def _customer_event_function(*, names_from: str) -> str:
    """0004's customer event function, taking the creator's and updater's names from ``names_from``."""
    path = Path(__file__).with_name("0004_webhooks.py")
    spec = importlib.util.spec_from_file_location("crm_migration_0004", path)
    assert spec is not None
    assert spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (function,) = [str(text) for text in module._FUNCTIONS if "crm_customer_webhook_event()" in text]
    function = function.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    return function.replace("JOIN users creator", f"JOIN {names_from} creator").replace(
        "JOIN users updater", f"JOIN {names_from} updater"
    )


def _point_actor_columns_at(table: str) -> None:
    before = "actors" if table == "users" else "users"
    for source, column in (*_ACTOR_COLUMNS, _HISTORY_ACTOR):
        op.drop_constraint(f"fk_{source}_{column}_{before}", source, type_="foreignkey")
        op.create_foreign_key(f"fk_{source}_{column}_{table}", source, table, [column], ["id"])


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "actors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_actors"),
    )
    op.execute("INSERT INTO actors (id, name) SELECT id, name FROM users")
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        _timestamp("expires_at", nullable=True),
        _timestamp("last_used_at", nullable=True),
        _timestamp("deleted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_api_keys_created_by_users"),
    )
    op.create_index("ix_api_keys_key_hash", "api_keys", ["key_hash"], unique=True)
    op.create_index(
        "ix_api_keys_live_created_at_id",
        "api_keys",
        ["created_at", "id"],
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.execute(_RECORD_ACTOR)
    for name, definition in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")
    _point_actor_columns_at("actors")
    op.execute(_customer_event_function(names_from="actors"))


def downgrade() -> None:
    op.execute(_customer_event_function(names_from="users"))
    _point_actor_columns_at("users")
    for name, definition in _TRIGGERS.items():
        table = definition.split(" ON ")[1].split()[0]
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS crm_record_actor()")
    op.drop_table("api_keys")
    op.drop_table("actors")
