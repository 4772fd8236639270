"""The tables of customers and their history of changes."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.dialects.postgresql import JSONB

from adapters.sql.errors import CUSTOMERS_PRIMARY_KEY
from adapters.sql.schema import BYTE_ORDER, metadata, timestamp

# The name errors.py turns into a domain error.

customers = Table(
    "customers",
    metadata,
    Column("id", Text(collation=BYTE_ORDER), nullable=False),
    Column("name", Text, nullable=False),
    Column("surname", Text, nullable=False),
    Column("email", Text, nullable=True),
    Column("phone", Text, nullable=True),
    Column("notes", Text, nullable=True),
    # domain.values.search_key of name and surname: the sort order for "name" and "surname".
    Column("name_key", Text(collation=BYTE_ORDER), nullable=False),
    Column("surname_key", Text(collation=BYTE_ORDER), nullable=False),
    # Customer.search_text: what "q" searches, through a trigram index.
    Column("search_text", Text, nullable=False),
    Column("photo_key", Text, nullable=True),
    Column("photo_thumbnail_key", Text, nullable=True),
    Column("photo_content_type", Text, nullable=True),
    timestamp("created_at"),
    Column("created_by", Uuid(as_uuid=True), nullable=False),
    timestamp("updated_at"),
    Column("updated_by", Uuid(as_uuid=True), nullable=False),
    Column("version", Integer, nullable=False),
    # Set while the customer is in the trash: hidden from reads, lists and search, its id still taken.
    timestamp("deleted_at", nullable=True),
    Column("deleted_by", Uuid(as_uuid=True), nullable=True),
    PrimaryKeyConstraint("id", name=CUSTOMERS_PRIMARY_KEY),
    ForeignKeyConstraint(["created_by"], ["actors.id"], name="fk_customers_created_by_actors"),
    ForeignKeyConstraint(["updated_by"], ["actors.id"], name="fk_customers_updated_by_actors"),
    ForeignKeyConstraint(["deleted_by"], ["actors.id"], name="fk_customers_deleted_by_actors"),
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
    Column("customer_id", Text(collation=BYTE_ORDER), nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor_id", Uuid(as_uuid=True), nullable=False),
    timestamp("at"),
    # [{"field", "old", "new"}, ...]: domain.customer_history.FieldChange, in order.
    Column("changes", JSONB, nullable=False),
    PrimaryKeyConstraint("id", name="pk_customer_changes"),
    ForeignKeyConstraint(["actor_id"], ["actors.id"], name="fk_customer_changes_actor_id_actors"),
    CheckConstraint(
        "kind IN ('created', 'updated', 'photo_changed', 'deleted', 'restored', 'erased')",
        name="ck_customer_changes_kind_known",
    ),
    # Serves a customer's history, newest first, from any page's start.
    Index("ix_customer_changes_customer_id_at_id", "customer_id", text("at DESC"), text("id DESC")),
)
