"""What every table shares: one ``MetaData`` with a naming convention, the byte-order collation, timestamps.

Every constraint and index has an explicit name, because ``errors.py`` maps integrity errors to
domain errors by name and because migrations must be able to drop what they created.
Columns that order keyset pages (``id`` and the ``*_key`` columns) use ``COLLATE "C"``: byte
order of UTF-8 equals code point order, which is Python's string order, so the SQL and the
in-memory adapters page identically, and the order does not depend on the server's locale.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData

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

# Byte order: see above.
BYTE_ORDER = "C"


def timestamp(name: str, *, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)
