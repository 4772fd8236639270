"""Live changes: every customer change as an event, in commit order, for the Server-Sent Events stream.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

- ``customer_events``: one row per history row (``customer_changes``), written by a statement trigger in the
  change's transaction with the webhooks' body (``crm_customer_event_data``, which the webhook trigger now calls
  too: one encoder for both) and the photo's storage keys (signed for each reader, never sent as they are).
  It goes with its history row (``ON DELETE CASCADE``), so an erasure removes the customer's earlier events.
- ``customer_event_commits``: one row per writing transaction. A deferred trigger gives it its ``position`` at
  commit time, holding a transaction-scoped advisory lock in shared mode until the commit is visible; readers take
  it exclusively, so what they read is always a complete prefix of the positions: an event that commits later has a
  higher position than any they have seen (a sequence alone hands out numbers in the order the writers asked for
  them, not the order they committed, and a reader could pass a number whose transaction had not committed yet).
  Then ``pg_notify('crm_customer_changes')`` wakes every replica's stream hub when, and only if, it commits.
See docs/decisions/0035-live-changes-in-commit-order.md.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
PHASE = "expand"


_EVENT_DATA = """
CREATE FUNCTION crm_customer_event_data(subject_id text, change_kind text, field_changes jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN change_kind IN ('deleted', 'erased') OR found.data IS NULL
                THEN jsonb_build_object('id', subject_id) ELSE found.data END
        || CASE WHEN change_kind IN ('updated', 'photo_changed')
                THEN jsonb_build_object('changes', field_changes) ELSE '{}'::jsonb END
    FROM (SELECT (
        SELECT jsonb_build_object(
            'id', c.id, 'name', c.name, 'surname', c.surname, 'email', c.email, 'phone', c.phone, 'notes', c.notes,
            'has_photo', c.photo_key IS NOT NULL,
            'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'created_by', jsonb_build_object('id', c.created_by, 'name', creator.name),
            'updated_at', to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'updated_by', jsonb_build_object('id', c.updated_by, 'name', updater.name),
            'version', c.version)
        FROM customers c
        JOIN actors creator ON creator.id = c.created_by
        JOIN actors updater ON updater.id = c.updated_by
        WHERE c.id = subject_id) AS data) AS found
$$
"""

# 0004's webhook trigger, its body now built by crm_customer_event_data.
_WEBHOOK_EVENT = """
CREATE OR REPLACE FUNCTION crm_customer_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'erased' THEN
        -- Erasure (GDPR Art. 17): no personal value of the customer may stay in the outbox either, pending or
        -- delivered. Its earlier events keep only the id, as the erased history entry does.
        UPDATE webhook_events SET data = jsonb_build_object('id', NEW.customer_id)
        WHERE subject = 'customer:' || NEW.customer_id AND data <> jsonb_build_object('id', NEW.customer_id);
    END IF;
    -- No subscriber, no work: an import adds up to 50,000 history rows, and the look-up below costs a join each.
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE active AND ('customer.' || NEW.kind = ANY(events) OR '*' = ANY(events)))
    THEN
        RETURN NULL;
    END IF;
    PERFORM crm_record_webhook_event('customer.' || NEW.kind, 'customer:' || NEW.customer_id, NEW.at,
        crm_customer_event_data(NEW.customer_id, NEW.kind, NEW.changes));
    RETURN NULL;
END
$$
"""

_RECORD_EVENTS = """
CREATE FUNCTION crm_record_customer_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
BEGIN
    -- A guarded update that matched nothing still fires this statement trigger, with no rows.
    IF NOT EXISTS (SELECT 1 FROM recorded) THEN
        RETURN NULL;
    END IF;
    INSERT INTO customer_event_commits (xid) VALUES (tx) ON CONFLICT (xid) DO NOTHING;
    INSERT INTO customer_events
        (change_id, xid, type, occurred_at, data, photo_key, photo_thumbnail_key, photo_content_type)
    SELECT r.id, tx, 'customer.' || r.kind, r.at, crm_customer_event_data(r.customer_id, r.kind, r.changes),
           c.photo_key, c.photo_thumbnail_key, c.photo_content_type
    FROM recorded r
    LEFT JOIN customers c ON c.id = r.customer_id AND r.kind NOT IN ('deleted', 'erased');
    RETURN NULL;
END
$$
"""

_POSITION_AT_COMMIT = """
CREATE FUNCTION crm_position_customer_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Shared among writers, held until the commit is visible. A reader takes it exclusively (see SqlCustomerEventFeed):
    -- once it has it, every position given out so far belongs to a finished transaction, and none is given out
    -- while it reads. (Any fixed number: the one lock of customer event positions.)
    PERFORM pg_advisory_xact_lock_shared(2026120621);
    UPDATE customer_event_commits
    SET position = nextval('customer_event_positions'), committed_at = clock_timestamp()
    WHERE xid = NEW.xid;
    PERFORM pg_notify('crm_customer_changes', '');
    RETURN NULL;
END
$$
"""

_TRIGGERS = {
    "trg_customer_changes_live_events": "AFTER INSERT ON customer_changes REFERENCING NEW TABLE AS recorded"
    " FOR EACH STATEMENT EXECUTE FUNCTION crm_record_customer_events()",
}
# Fires at commit (deferred), once per writing transaction: the transaction adds one row here.
_COMMIT_TRIGGER = (
    "CREATE CONSTRAINT TRIGGER trg_customer_event_commits_position AFTER INSERT ON customer_event_commits"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crm_position_customer_events()"
)


def _webhook_function_of_0006() -> str:
    path = Path(__file__).with_name("0006_api_keys.py")
    spec = importlib.util.spec_from_file_location("crm_migration_0006", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module._customer_event_function(names_from="actors"))


def upgrade() -> None:
    # CACHE 1 (the default): numbers are handed out in the order they are asked for, across sessions.
    op.execute("CREATE SEQUENCE customer_event_positions AS bigint CACHE 1")
    op.create_table(
        "customer_event_commits",
        # pg_current_xact_id() as a number: the writing transaction.
        sa.Column("xid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("xid", name="pk_customer_event_commits"),
        sa.UniqueConstraint("position", name="uq_customer_event_commits_position"),
    )
    op.create_table(
        "customer_events",
        sa.Column("change_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("xid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("photo_key", sa.Text(), nullable=True),
        sa.Column("photo_thumbnail_key", sa.Text(), nullable=True),
        sa.Column("photo_content_type", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("change_id", name="pk_customer_events"),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["customer_changes.id"],
            name="fk_customer_events_change_id_customer_changes",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["xid"],
            ["customer_event_commits.xid"],
            name="fk_customer_events_xid_customer_event_commits",
            ondelete="CASCADE",
        ),
    )
    # A new, empty table: nothing to build concurrently.
    op.create_index("ix_customer_events_xid_change_id", "customer_events", ["xid", "change_id"])
    op.create_index("ix_customer_event_commits_committed_at", "customer_event_commits", ["committed_at"])
    for statement in (_EVENT_DATA, _WEBHOOK_EVENT, _RECORD_EVENTS, _POSITION_AT_COMMIT):
        op.execute(statement)
    for name, definition in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")
    op.execute(_COMMIT_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_customer_event_commits_position ON customer_event_commits")
    op.execute("DROP TRIGGER IF EXISTS trg_customer_changes_live_events ON customer_changes")
    op.execute(_webhook_function_of_0006())
    op.execute("DROP FUNCTION IF EXISTS crm_position_customer_events()")
    op.execute("DROP FUNCTION IF EXISTS crm_record_customer_events()")
    op.execute("DROP FUNCTION IF EXISTS crm_customer_event_data(text, text, jsonb)")
    op.drop_table("customer_events")
    op.drop_table("customer_event_commits")
    op.execute("DROP SEQUENCE IF EXISTS customer_event_positions")
