"""Webhooks and their transactional outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Tables: ``webhooks`` (endpoints), ``webhook_events`` (the outbox), ``webhook_deliveries`` (one per event and
subscribed webhook, the delivery worker's queue) and ``webhook_attempts``.

Events are written by triggers, in the transaction of the change they describe, so that no code path (today's or a
future one) can change a customer or a user without its event, and a rolled-back change leaves none:
- after a row is added to ``customer_changes`` (every customer change records one, the CSV import's COPY included):
  ``customer.<kind>``, with the customer as it is after the change (only its id once it is gone) and, for updates,
  the changed fields; an ``erased`` row also reduces every earlier event of the customer to its id (GDPR Art. 17);
- after a user is added, changed (e-mail, name, admin status) or deleted: ``user.created|updated|deleted``.
An event is only written when an active webhook subscribes to its type, and one delivery row is added per such
webhook; ``pg_notify('crm_webhook_events')`` then wakes the delivery workers, when and only if the transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# History: applied in production before the two phases existed, before its release rolled out, hence "expand".
PHASE = "expand"

# Times are written as RFC 3339 in UTC with microseconds (to_char ... AT TIME ZONE 'UTC'), as the API writes them,
# whatever the session's time zone.

_FUNCTIONS = [
    # The outbox write shared by both triggers.
    """
CREATE FUNCTION crm_record_webhook_event(event_type text, event_subject text, occurred timestamptz, event_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    new_seq bigint;
BEGIN
    -- No subscriber, no event: a service without webhooks pays one index-less look-up in a tiny table.
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE active AND (event_type = ANY(events) OR '*' = ANY(events))) THEN
        RETURN;
    END IF;
    INSERT INTO webhook_events (id, type, subject, occurred_at, data)
    VALUES (gen_random_uuid(), event_type, event_subject, occurred, event_data)
    RETURNING seq INTO new_seq;
    INSERT INTO webhook_deliveries (id, webhook_id, event_seq, subject, status, attempts, created_at, next_attempt_at)
    SELECT gen_random_uuid(), w.id, new_seq, event_subject, 'pending', 0, occurred, occurred
    FROM webhooks w WHERE w.active AND (event_type = ANY(w.events) OR '*' = ANY(w.events));
    PERFORM pg_notify('crm_webhook_events', '');
END
$$
""",
    """
CREATE FUNCTION crm_customer_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event_data jsonb;
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
    SELECT jsonb_build_object(
        'id', c.id, 'name', c.name, 'surname', c.surname, 'email', c.email, 'phone', c.phone, 'notes', c.notes,
        'has_photo', c.photo_key IS NOT NULL,
        'created_at', to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'created_by', jsonb_build_object('id', c.created_by, 'name', creator.name),
        'updated_at', to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'updated_by', jsonb_build_object('id', c.updated_by, 'name', updater.name),
        'version', c.version)
    INTO event_data
    FROM customers c
    JOIN users creator ON creator.id = c.created_by
    JOIN users updater ON updater.id = c.updated_by
    WHERE c.id = NEW.customer_id;
    IF event_data IS NULL OR NEW.kind IN ('deleted', 'erased') THEN
        event_data := jsonb_build_object('id', NEW.customer_id);
    END IF;
    IF NEW.kind IN ('updated', 'photo_changed') THEN
        event_data := event_data || jsonb_build_object('changes', NEW.changes);
    END IF;
    PERFORM crm_record_webhook_event('customer.' || NEW.kind, 'customer:' || NEW.customer_id, NEW.at, event_data);
    RETURN NULL;
END
$$
""",
    """
CREATE FUNCTION crm_user_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    event_type text;
    event_data jsonb;
    changed jsonb := '[]'::jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        event_type := 'user.created';
    ELSIF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        event_type := 'user.deleted';
    ELSE
        IF OLD.email IS DISTINCT FROM NEW.email THEN
            changed := changed || jsonb_build_object('field', 'email', 'old', OLD.email, 'new', NEW.email);
        END IF;
        IF OLD.name IS DISTINCT FROM NEW.name THEN
            changed := changed || jsonb_build_object('field', 'name', 'old', OLD.name, 'new', NEW.name);
        END IF;
        IF OLD.is_admin IS DISTINCT FROM NEW.is_admin THEN
            changed := changed || jsonb_build_object(
                'field', 'is_admin', 'old', OLD.is_admin::text, 'new', NEW.is_admin::text);
        END IF;
        -- A new password changes nothing a receiver can see.
        IF jsonb_array_length(changed) = 0 THEN
            RETURN NULL;
        END IF;
        event_type := 'user.updated';
    END IF;
    event_data := jsonb_build_object(
        'id', NEW.id, 'email', NEW.email, 'name', NEW.name, 'is_admin', NEW.is_admin,
        'created_at', to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'updated_at', to_char(NEW.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'version', NEW.version);
    IF event_type = 'user.updated' THEN
        event_data := event_data || jsonb_build_object('changes', changed);
    END IF;
    PERFORM crm_record_webhook_event(event_type, 'user:' || NEW.id::text, NEW.updated_at, event_data);
    RETURN NULL;
END
$$
""",
]

_TRIGGERS = [
    "CREATE TRIGGER trg_customer_changes_webhook_event AFTER INSERT ON customer_changes"
    " FOR EACH ROW EXECUTE FUNCTION crm_customer_webhook_event()",
    "CREATE TRIGGER trg_users_webhook_event AFTER INSERT OR UPDATE ON users"
    " FOR EACH ROW EXECUTE FUNCTION crm_user_webhook_event()",
]


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("previous_secret", sa.Text(), nullable=True),
        _timestamp("previous_secret_until", nullable=True),
        _timestamp("created_at"),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_webhooks"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_webhooks_created_by_users"),
    )
    op.create_index("ix_webhooks_created_at_id", "webhooks", ["created_at", "id"])

    op.create_table(
        "webhook_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(collation="C"), nullable=False),
        _timestamp("occurred_at"),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_webhook_events"),
    )
    op.create_index("uq_webhook_events_id", "webhook_events", ["id"], unique=True)
    # An erasure finds the customer's events by subject.
    op.create_index("ix_webhook_events_subject", "webhook_events", ["subject"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.Text(collation="C"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("next_attempt_at"),
        _timestamp("last_attempt_at", nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name="fk_webhook_deliveries_webhook_id_webhooks", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_seq"],
            ["webhook_events.seq"],
            name="fk_webhook_deliveries_event_seq_webhook_events",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="ck_webhook_deliveries_status_known"),
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhook_deliveries_pending_subject",
        "webhook_deliveries",
        ["webhook_id", "subject", "event_seq"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_webhook_deliveries_webhook_id_event_seq", "webhook_deliveries", ["webhook_id", "event_seq"])
    op.create_index("ix_webhook_deliveries_event_seq", "webhook_deliveries", ["event_seq"])

    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        _timestamp("at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name="fk_webhook_attempts_delivery_id_webhook_deliveries",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])

    for statement in (*_FUNCTIONS, *_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS trg_users_webhook_event ON users")
    op.execute("DROP TRIGGER IF EXISTS trg_customer_changes_webhook_event ON customer_changes")
    op.execute("DROP FUNCTION IF EXISTS crm_user_webhook_event()")
    op.execute("DROP FUNCTION IF EXISTS crm_customer_webhook_event()")
    op.execute("DROP FUNCTION IF EXISTS crm_record_webhook_event(text, text, timestamptz, jsonb)")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhooks")
