"""Test data, written straight into PostgreSQL: one user and many customers.

Customers are generated inside PostgreSQL (``generate_series``), which writes a million rows in seconds
where the API would take an hour. Generated names are ASCII, so ``lower()`` in SQL equals
``domain.values.search_key`` (NFKD, accents stripped, casefolded): ``check_keys`` proves it on a sample,
so that the sort keys and the search text are exactly what the service itself would have written.
Customer ``i`` has the id ``C`` + seven digits and was created ``i`` seconds after 2024-01-01 UTC.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from argon2 import PasswordHasher, Type

from adapters.security.passwords import HashingCost
from application.pagination import encode_cursor
from domain.values import search_key

FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla", "Lukas", "Mia",
    "Noah", "Olivia", "Paul", "Rosa", "Simon", "Tara", "Uwe", "Vera", "Walter", "Xenia", "Yusuf", "Zoe",
    "Adrian", "Bettina", "Carlos", "Dora", "Elias", "Frida", "Gustav", "Hanna", "Ivan", "Julia", "Konrad",
    "Lena", "Marco", "Nora", "Oskar", "Pia",
)  # fmt: skip
SURNAMES = (
    "Berger", "Fischer", "Hoffmann", "Keller", "Lang", "Meyer", "Richter", "Schulz", "Wagner", "Weber",
    "Becker", "Braun", "Koch", "Krause", "Lehmann", "Neumann", "Schmitt", "Schwarz", "Vogel", "Wolf",
    "Zimmermann", "Hartmann", "Kaiser", "Lorenz", "Martin", "Peters", "Roth", "Sommer", "Stein", "Winter",
    "Jung", "Haas", "Franke", "Graf", "Huber", "Kuhn", "Ludwig", "Otto", "Pohl", "Seidel", "Thomas",
    "Ullrich", "Voigt",
)  # fmt: skip
# What the search benchmark looks for: whole names, fragments (3+ characters serve the trigram index)
# and one that matches nothing.
SEARCH_TERMS = (
    "anna", "berger", "mia", "son", "mann", "rich", "zoe wolf", "lena.k", "C00012", "ika", "nomatchxyz",
    "fischer", "old", "ter", "ina",
)  # fmt: skip
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
PASSWORD = "bench-password-" + uuid.uuid4().hex


def customer_id(index: int) -> str:
    return f"C{index:07d}"


# Customer i of a series; the expressions here must stay what check_keys verifies.
_NAME = f"(ARRAY[{', '.join(repr(n) for n in FIRST_NAMES)}])[1 + i % {len(FIRST_NAMES)}]"
_SURNAME = f"(ARRAY[{', '.join(repr(n) for n in SURNAMES)}])[1 + (i / 7) % {len(SURNAMES)}]"
_INSERT_SERIES = f"""
INSERT INTO customers (id, name, surname, email, phone, notes, name_key, surname_key, search_text,
    created_at, created_by, updated_at, updated_by, version)
SELECT id, name, surname, email, phone, notes, lower(name), lower(surname),
    lower(id || ' ' || name || ' ' || surname || ' ' || email),
    created_at, $3, created_at, $3, 1
FROM (
    SELECT 'C' || lpad(i::text, 7, '0') AS id, {_NAME} AS name, {_SURNAME} AS surname,
        lower({_NAME}) || '.' || lower({_SURNAME}) || '.' || i || '@example.com' AS email,
        '+1 555 ' || lpad((i % 10000000)::text, 7, '0') AS phone,
        CASE WHEN i % 10 = 0 THEN 'Prefers e-mail; older customer.' END AS notes,
        $4::timestamptz + i * interval '1 second' AS created_at
    FROM generate_series($1::int, $2::int) AS i
) AS generated
"""


@dataclass(frozen=True, slots=True)
class BenchUser:
    id: UUID
    email: str
    password: str


async def create_user(connection: asyncpg.Connection) -> BenchUser:
    """An active admin with a password hashed exactly as the service hashes it (so signing in does not
    rehash and write)."""
    cost = HashingCost()
    hasher = PasswordHasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism, type=Type.ID
    )
    user = BenchUser(uuid.uuid4(), "bench@example.com", PASSWORD)
    now = datetime.now(UTC)
    await connection.execute(
        """INSERT INTO users (id, email, email_key, name, password_hash, is_admin, created_at, updated_at, version)
        VALUES ($1, $2, $3, $4, $5, true, $6, $6, 1)""",
        user.id,
        user.email,
        user.email.casefold(),
        "Bench Admin",
        hasher.hash(user.password),
        now,
    )
    return user


async def _secondary_indexes(connection: asyncpg.Connection) -> list[tuple[str, str]]:
    """The customers' indexes that back no constraint, with their definitions."""
    rows = await connection.fetch(
        """SELECT indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema() AND tablename = 'customers'
          AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'customers'::regclass)"""
    )
    return [(row["indexname"], row["indexdef"]) for row in rows]


async def add_customers(connection: asyncpg.Connection, user: BenchUser, first: int, last: int) -> None:
    """Customers ``first`` to ``last`` (inclusive). For many rows the secondary indexes are dropped
    and built again afterwards (whatever the migrations define), which is several times faster."""
    await connection.execute("SET maintenance_work_mem = '256MB'")
    await connection.execute("SET synchronous_commit = off")
    rebuild = last - first > 100_000
    indexes = await _secondary_indexes(connection) if rebuild else []
    for name, _ in indexes:
        await connection.execute(f'DROP INDEX "{name}"')
    await connection.execute(_INSERT_SERIES, first, last, user.id, EPOCH)
    for _, definition in indexes:
        await connection.execute(definition)
    await connection.execute("VACUUM (ANALYZE) customers")


async def check_keys(connection: asyncpg.Connection) -> None:
    """The generated sort keys and search text equal what the domain computes."""
    rows = await connection.fetch(
        "SELECT id, name, surname, email, name_key, surname_key, search_text FROM customers "
        "WHERE id LIKE 'C%' ORDER BY random() LIMIT 200"
    )
    for row in rows:
        expected = (search_key(row["name"]), search_key(row["surname"]))
        expected_text = search_key(row["id"], row["name"], row["surname"], row["email"])
        if (row["name_key"], row["surname_key"]) != expected or row["search_text"] != expected_text:
            raise AssertionError(f"Seeded keys of {row['id']} differ from domain.values.search_key")


async def deep_cursors(connection: asyncpg.Connection, depth_from: int, depth_to: int, count: int) -> list[str]:
    """Cursors (as the service encodes them) that start pages ``depth_from`` to ``depth_to`` rows deep in
    the default order, newest first."""
    total = await connection.fetchval("SELECT count(*) FROM customers")
    seeded_max = await connection.fetchval("SELECT max(id) FROM customers WHERE id LIKE 'C%'")
    newer_than_seeded = total - int(seeded_max[1:])  # rows created by the benchmark sort first
    indexes = random.sample(range(depth_from, depth_to), count)
    ids = [customer_id(int(seeded_max[1:]) - depth + newer_than_seeded) for depth in indexes]
    rows = await connection.fetch("SELECT id, created_at FROM customers WHERE id = ANY($1::text[])", ids)
    return [encode_cursor("-created_at", row["created_at"].isoformat(), row["id"]) for row in rows]


async def add_history(connection: asyncpg.Connection, user: BenchUser, first: int, last: int) -> None:
    """A ``created`` history entry for customers ``first`` to ``last``, written by ``user`` when each was created."""
    await connection.execute("SET synchronous_commit = off")
    await connection.execute(
        """INSERT INTO customer_changes (customer_id, kind, actor_id, at, changes)
        SELECT 'C' || lpad(i::text, 7, '0'), 'created', $3, $4::timestamptz + i * interval '1 second', '[]'::jsonb
        FROM generate_series($1::int, $2::int) AS i""",
        first,
        last,
        user.id,
        EPOCH,
    )
    await connection.execute("VACUUM (ANALYZE) customer_changes")
