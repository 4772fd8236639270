"""The tables of webhooks: endpoints, the event outbox, deliveries, attempts."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from adapters.sql.schema import BYTE_ORDER, metadata, timestamp

# Webhook endpoints that admins register (adapters.sql.integrations.webhooks).
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Uuid(as_uuid=True), nullable=False),
    Column("url", Text, nullable=False),
    # Event types, or ["*"] for all; the outbox triggers (migration 0004) match events against it.
    Column("events", ARRAY(Text), nullable=False),
    Column("description", Text, nullable=True),
    Column("active", Boolean, nullable=False),
    # "whsec_<base64>": the key the deliveries are signed with. The previous one keeps signing for a day after a
    # rotation, so that receivers can switch over.
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text, nullable=True),
    timestamp("previous_secret_until", nullable=True),
    timestamp("created_at"),
    Column("created_by", Uuid(as_uuid=True), nullable=False),
    timestamp("updated_at"),
    PrimaryKeyConstraint("id", name="pk_webhooks"),
    ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_webhooks_created_by_users"),
    Index("ix_webhooks_created_at_id", "created_at", "id"),
)

# The transactional outbox: one row per event, written by triggers in the transaction of the change it describes.
webhook_events = Table(
    "webhook_events",
    metadata,
    # bigserial: changes of one subject are serialised by its row lock, so their order here is commit order.
    Column("seq", BigInteger, nullable=False, autoincrement=True),
    # The webhook-id every delivery of this event carries, the same on every retry.
    Column("id", Uuid(as_uuid=True), nullable=False),
    Column("type", Text, nullable=False),
    # "customer:<id>" or "user:<id>": deliveries of one subject to one webhook keep commit order.
    Column("subject", Text(collation=BYTE_ORDER), nullable=False),
    timestamp("occurred_at"),
    Column("data", JSONB, nullable=False),
    PrimaryKeyConstraint("seq", name="pk_webhook_events"),
    Index("uq_webhook_events_id", "id", unique=True),
    # An erasure reduces the customer's events to its id (migration 0004's trigger) and finds them by subject.
    Index("ix_webhook_events_subject", "subject"),
)

# One row per event and subscribed webhook: what the delivery worker claims with FOR UPDATE SKIP LOCKED.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Uuid(as_uuid=True), nullable=False),
    Column("webhook_id", Uuid(as_uuid=True), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("subject", Text(collation=BYTE_ORDER), nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    timestamp("created_at"),
    timestamp("next_attempt_at"),
    timestamp("last_attempt_at", nullable=True),
    Column("last_status_code", Integer, nullable=True),
    PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    ForeignKeyConstraint(
        ["webhook_id"], ["webhooks.id"], name="fk_webhook_deliveries_webhook_id_webhooks", ondelete="CASCADE"
    ),
    ForeignKeyConstraint(
        ["event_seq"], ["webhook_events.seq"], name="fk_webhook_deliveries_event_seq_webhook_events", ondelete="CASCADE"
    ),
    CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="ck_webhook_deliveries_status_known"),
    # The worker's queue: pending deliveries by due time.
    Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    # Per-subject order: is an earlier delivery of the same subject to the same webhook still pending?
    Index(
        "ix_webhook_deliveries_pending_subject",
        "webhook_id",
        "subject",
        "event_seq",
        postgresql_where=text("status = 'pending'"),
    ),
    # A webhook's deliveries, newest first.
    Index("ix_webhook_deliveries_webhook_id_event_seq", "webhook_id", "event_seq"),
    Index("ix_webhook_deliveries_event_seq", "event_seq"),
)

# Every attempt of every delivery: when, how it ended, and the start of the answer.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=True),
    Column("delivery_id", Uuid(as_uuid=True), nullable=False),
    timestamp("at"),
    Column("status_code", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    # The first 1 KiB of the answer's body, or why there was none.
    Column("response_excerpt", Text, nullable=False),
    PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    ForeignKeyConstraint(
        ["delivery_id"],
        ["webhook_deliveries.id"],
        name="fk_webhook_attempts_delivery_id_webhook_deliveries",
        ondelete="CASCADE",
    ),
    Index("ix_webhook_attempts_delivery_id", "delivery_id"),
)
