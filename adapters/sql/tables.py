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
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

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

# Every table, children first: the order to truncate or drop them in.
ALL_TABLES = (customer_changes, refresh_tokens, sign_in_sessions, customers, sign_in_failures, users)
