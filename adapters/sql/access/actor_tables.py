"""The tables of who can change a customer: ``actors`` (users and API keys alike) and ``api_keys``.

Customers and their history point at an actor: the user or the API key that made the change. A foreign
key can name only one table, so both feed ``actors`` (migration 0006: triggers add a row as a user or a
key is added, and keep its name current), and the customer tables' foreign keys and name look-ups use it.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKeyConstraint, Index, PrimaryKeyConstraint, Table, Text, Uuid, text
from sqlalchemy.dialects.postgresql import ARRAY

from adapters.sql.schema import metadata, timestamp

actors = Table(
    "actors",
    metadata,
    Column("id", Uuid(as_uuid=True), nullable=False),
    # The user's or the key's current name, as customers show it in created_by and updated_by.
    Column("name", Text, nullable=False),
    PrimaryKeyConstraint("id", name="pk_actors"),
)

# API keys that admins make (adapters.sql.access.api_keys). Deleted keys stay, so that what they wrote keeps their name.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    # domain.api_keys.ApiKeyScope values.
    Column("scopes", ARRAY(Text), nullable=False),
    # The key's first characters, in the clear, so that people can tell their keys apart.
    Column("prefix", Text, nullable=False),
    # SHA-256 of the key: a leaked table reveals no usable key.
    Column("key_hash", Text, nullable=False),
    timestamp("created_at"),
    Column("created_by", Uuid(as_uuid=True), nullable=False),
    timestamp("expires_at", nullable=True),
    timestamp("last_used_at", nullable=True),
    timestamp("deleted_at", nullable=True),
    PrimaryKeyConstraint("id", name="pk_api_keys"),
    ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_api_keys_created_by_users"),
    # Serves the look-up of every request that carries a key.
    Index("ix_api_keys_key_hash", "key_hash", unique=True),
    # Serves the list: keys not deleted, oldest first.
    Index("ix_api_keys_live_created_at_id", "created_at", "id", postgresql_where=text("deleted_at IS NULL")),
)
