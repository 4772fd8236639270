"""The database schema, as SQLAlchemy Core tables: the source the migrations are checked against.

Every constraint and index has an explicit name, because ``errors.py`` maps integrity errors to
domain errors by name and because migrations must be able to drop what they created.
Columns that order keyset pages (``id`` and the ``*_key`` columns) use ``COLLATE "C"``: byte
order of UTF-8 equals code point order, which is Python's string order, so the SQL and the
in-memory adapters page identically, and the order does not depend on the server's locale.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

# Anything declared without a name still gets a predictable one.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Names that errors.py turns into domain errors.
CUSTOMERS_PRIMARY_KEY = "pk_customers"
USERS_ACTIVE_EMAIL_UNIQUE = "uq_users_email_key_active"

_C = "C"


def _timestamp(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


users = Table(
    "users",
    metadata,
    Column("id", Uuid(as_uuid=True), nullable=False),
    Column("email", Text, nullable=False),
    # Email.key (casefolded): what uniqueness and look-ups compare.
    Column("email_key", Text(collation=_C), nullable=False),
    Column("name", Text, nullable=False),
    # NULL: the user signs in only through an OpenID Connect provider.
    Column("password_hash", Text, nullable=True),
    Column("is_admin", Boolean, nullable=False),
    _timestamp("created_at"),
    _timestamp("updated_at"),
    Column("version", Integer, nullable=False),
    # Deleted users stay, so that customers keep pointing at them.
    _timestamp("deleted_at", nullable=True),
    PrimaryKeyConstraint("id", name="pk_users"),
    CheckConstraint("version >= 1", name="ck_users_version_positive"),
    # Active e-mails are unique; a deleted user's e-mail is free for a new user.
    Index(
        USERS_ACTIVE_EMAIL_UNIQUE,
        "email_key",
        unique=True,
        postgresql_where=text("deleted_at IS NULL"),
    ),
    # Serves the users list: active users by e-mail key, then id.
    Index("ix_users_active_email_key_id", "email_key", "id", postgresql_where=text("deleted_at IS NULL")),
)

customers = Table(
    "customers",
    metadata,
    Column("id", Text(collation=_C), nullable=False),
    Column("name", Text, nullable=False),
    Column("surname", Text, nullable=False),
    Column("email", Text, nullable=True),
    Column("phone", Text, nullable=True),
    Column("notes", Text, nullable=True),
    # domain.values.search_key of name and surname: the sort order for "name" and "surname".
    Column("name_key", Text(collation=_C), nullable=False),
    Column("surname_key", Text(collation=_C), nullable=False),
    # Customer.search_text: what "q" searches, through a trigram index.
    Column("search_text", Text, nullable=False),
    Column("photo_key", Text, nullable=True),
    Column("photo_thumbnail_key", Text, nullable=True),
    Column("photo_content_type", Text, nullable=True),
    _timestamp("created_at"),
    Column("created_by", Uuid(as_uuid=True), nullable=False),
    _timestamp("updated_at"),
    Column("updated_by", Uuid(as_uuid=True), nullable=False),
    Column("version", Integer, nullable=False),
    # Set while the customer is in the trash: hidden from reads, lists and search, its id still taken.
    _timestamp("deleted_at", nullable=True),
    Column("deleted_by", Uuid(as_uuid=True), nullable=True),
    PrimaryKeyConstraint("id", name=CUSTOMERS_PRIMARY_KEY),
    ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_customers_created_by_users"),
    ForeignKeyConstraint(["updated_by"], ["users.id"], name="fk_customers_updated_by_users"),
    ForeignKeyConstraint(["deleted_by"], ["users.id"], name="fk_customers_deleted_by_users"),
    CheckConstraint("version >= 1", name="ck_customers_version_positive"),
    CheckConstraint("(deleted_at IS NULL) = (deleted_by IS NULL)", name="ck_customers_trash_complete"),
    # A photo is its image, its thumbnail and its type together, or nothing.
    CheckConstraint(
        "(photo_key IS NULL) = (photo_thumbnail_key IS NULL) AND (photo_key IS NULL) = (photo_content_type IS NULL)",
        name="ck_customers_photo_complete",
    ),
    # One index per sort order; ties are broken by id, and a b-tree serves both directions.
    Index("ix_customers_created_at_id", "created_at", "id"),
    Index("ix_customers_updated_at_id", "updated_at", "id"),
    Index("ix_customers_name_key_id", "name_key", "id"),
    Index("ix_customers_surname_key_id", "surname_key", "id"),
    # Serves "search_text LIKE '%...%'" for searches of three characters or more.
    Index(
        "ix_customers_search_text_trgm",
        "search_text",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    ),
    # Serves the trash page (newest first) and the purge of what has been there too long.
    Index(
        "ix_customers_trash_deleted_at_id",
        "deleted_at",
        "id",
        postgresql_where=text("deleted_at IS NOT NULL"),
    ),
)

customer_changes = Table(
    "customer_changes",
    metadata,
    # bigserial: among changes with the same time, the later recorded has the higher id.
    Column("id", BigInteger, nullable=False, autoincrement=True),
    # No foreign key: the history outlives the customer.
    Column("customer_id", Text(collation=_C), nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor_id", Uuid(as_uuid=True), nullable=False),
    _timestamp("at"),
    # [{"field", "old", "new"}, ...]: domain.customer_history.FieldChange, in order.
    Column("changes", JSONB, nullable=False),
    PrimaryKeyConstraint("id", name="pk_customer_changes"),
    ForeignKeyConstraint(["actor_id"], ["users.id"], name="fk_customer_changes_actor_id_users"),
    CheckConstraint(
        "kind IN ('created', 'updated', 'photo_changed', 'deleted', 'restored', 'erased')",
        name="ck_customer_changes_kind_known",
    ),
    # Serves a customer's history, newest first, from any page's start.
    Index("ix_customer_changes_customer_id_at_id", "customer_id", text("at DESC"), text("id DESC")),
)

# Failed sign-ins per throttle key (adapters.sql.throttle): shared by every replica.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", Text, nullable=False),
    Column("failures", Integer, nullable=False),
    _timestamp("window_started_at"),
    PrimaryKeyConstraint("key", name="pk_sign_in_failures"),
    CheckConstraint("failures >= 1", name="ck_sign_in_failures_failures_positive"),
    # Serves the clean-up of rows whose window ended long ago.
    Index("ix_sign_in_failures_window_started_at", "window_started_at"),
)

sign_in_sessions = Table(
    "sign_in_sessions",
    metadata,
    Column("id", Uuid(as_uuid=True), nullable=False),
    Column("user_id", Uuid(as_uuid=True), nullable=False),
    _timestamp("created_at"),
    _timestamp("expires_at"),
    _timestamp("revoked_at", nullable=True),
    PrimaryKeyConstraint("id", name="pk_sign_in_sessions"),
    ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sign_in_sessions_user_id_users"),
    Index("ix_sign_in_sessions_user_id", "user_id"),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    # SHA-256 of the token: a leaked table reveals no usable token.
    Column("token_hash", Text, nullable=False),
    Column("session_id", Uuid(as_uuid=True), nullable=False),
    _timestamp("issued_at"),
    _timestamp("expires_at"),
    _timestamp("rotated_at", nullable=True),
    PrimaryKeyConstraint("token_hash", name="pk_refresh_tokens"),
    ForeignKeyConstraint(
        ["session_id"],
        ["sign_in_sessions.id"],
        name="fk_refresh_tokens_session_id_sign_in_sessions",
        ondelete="CASCADE",
    ),
    # Serves the cascade when sessions are deleted.
    Index("ix_refresh_tokens_session_id", "session_id"),
)

# Webhook endpoints that admins register (adapters.sql.webhooks).
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
    _timestamp("previous_secret_until", nullable=True),
    _timestamp("created_at"),
    Column("created_by", Uuid(as_uuid=True), nullable=False),
    _timestamp("updated_at"),
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
    Column("subject", Text(collation=_C), nullable=False),
    _timestamp("occurred_at"),
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
    Column("subject", Text(collation=_C), nullable=False),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    _timestamp("created_at"),
    _timestamp("next_attempt_at"),
    _timestamp("last_attempt_at", nullable=True),
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
    _timestamp("at"),
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

# The first answer to each request sent with an Idempotency-Key (adapters.sql.idempotency), kept for a day.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    # The signed-in user's id.
    Column("caller", Text(collation=_C), nullable=False),
    Column("key", Text(collation=_C), nullable=False),
    Column("fingerprint", Text, nullable=False),
    _timestamp("created_at"),
    # NULL while the first request runs.
    Column("status", Integer, nullable=True),
    Column("headers", JSONB, nullable=True),
    Column("body", LargeBinary, nullable=True),
    PrimaryKeyConstraint("caller", "key", name="pk_idempotency_records"),
    Index("ix_idempotency_records_created_at", "created_at"),
)

# Every table, children first: the order to truncate or drop them in.
ALL_TABLES = (
    idempotency_records,
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhooks,
    customer_changes,
    refresh_tokens,
    sign_in_sessions,
    customers,
    sign_in_failures,
    users,
)
