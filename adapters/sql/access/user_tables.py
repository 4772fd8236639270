"""The tables of people and their sign-ins: users, sign-in sessions with their refresh tokens, failed sign-ins."""

from __future__ import annotations

from sqlalchemy import (
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

from adapters.sql.errors import USERS_ACTIVE_EMAIL_UNIQUE
from adapters.sql.schema import BYTE_ORDER, metadata, timestamp

# The name errors.py turns into a domain error.

users = Table(
    "users",
    metadata,
    Column("id", Uuid(as_uuid=True), nullable=False),
    Column("email", Text, nullable=False),
    # Email.key (casefolded): what uniqueness and look-ups compare.
    Column("email_key", Text(collation=BYTE_ORDER), nullable=False),
    Column("name", Text, nullable=False),
    # NULL: the user signs in only through an OpenID Connect provider.
    Column("password_hash", Text, nullable=True),
    Column("is_admin", Boolean, nullable=False),
    timestamp("created_at"),
    timestamp("updated_at"),
    Column("version", Integer, nullable=False),
    # Deleted users stay, so that customers keep pointing at them.
    timestamp("deleted_at", nullable=True),
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

# Failed sign-ins per throttle key (adapters.sql.access.sign_in_throttle): shared by every replica.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key", Text, nullable=False),
    Column("failures", Integer, nullable=False),
    timestamp("window_started_at"),
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
    timestamp("created_at"),
    timestamp("expires_at"),
    timestamp("revoked_at", nullable=True),
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
    timestamp("issued_at"),
    timestamp("expires_at"),
    timestamp("rotated_at", nullable=True),
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
