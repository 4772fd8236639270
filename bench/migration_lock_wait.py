"""How long a write waits behind a migration that waits for its lock, with and without the lock timeout (issue 19).

    .venv/bin/python -m bench.migration_lock_wait [--blocker-seconds 3]

On a throw-away database at the newest revision, a writer updates one customer every 10 ms. A report holds a long
transaction that read ``customers``; meanwhile a migration adds a column to ``customers`` (it needs an ACCESS
EXCLUSIVE lock, so it queues behind the report, and the writer queues behind the migration). Run twice: with the
migration limits as configured (``CRM_MIGRATION_*``, defaults in adapters/sql/migration_limits.py) and with a lock
timeout of an hour (what PostgreSQL does without one). Prints the longest write latency and how long the migration
took in each. The figures depend on the machine only through the writer's own latency; the waits are the point.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import asyncpg
from msgspec import structs

from adapters.sql.migrate import MIGRATIONS_FOLDER, migrate
from adapters.sql.migration_limits import MigrationLimits
from bench import database

_REVISION = '''"""Bench: a column on customers."""

from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None
PHASE = "expand"


def upgrade() -> None:
    op.execute("ALTER TABLE customers ADD COLUMN bench_note text")


def downgrade() -> None:
    op.execute("ALTER TABLE customers DROP COLUMN bench_note")
'''
_USER = "00000000-0000-4000-8000-000000000001"


def _migrations_with_one_more(folder: Path, head: str) -> Path:
    copy = folder / "migrations"
    shutil.copytree(MIGRATIONS_FOLDER, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_bench.py").write_text(_REVISION.format(revision="9999", down=head))
    return copy


async def _seed(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "INSERT INTO users (id, email, email_key, name, is_admin, created_at, updated_at, version)"
            f" VALUES ('{_USER}', 'a@example.com', 'a@example.com', 'A', true, now(), now(), 1)"
        )
        await connection.execute(
            "INSERT INTO customers (id, name, surname, name_key, surname_key, search_text, created_at, created_by,"
            f" updated_at, updated_by, version) VALUES ('C-1', 'Bo', 'Bo', 'bo', 'bo', 'bo', now(), '{_USER}', now(),"
            f" '{_USER}', 1)"
        )
        head: str = await connection.fetchval("SELECT version_num FROM alembic_version")
        return head
    finally:
        await connection.close()


async def _write_until(url: str, stop: asyncio.Event) -> float:
    """Update the customer every 10 ms until ``stop``; the longest single write, in seconds."""
    connection = await asyncpg.connect(url)
    longest = 0.0
    try:
        while not stop.is_set():
            started = time.perf_counter()
            await connection.execute("UPDATE customers SET version = version + 1 WHERE id = 'C-1'")
            longest = max(longest, time.perf_counter() - started)
            await asyncio.sleep(0.01)
    finally:
        await connection.close()
    return longest


async def _report(url: str, seconds: float, holding: asyncio.Event) -> None:
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            await connection.fetchval("SELECT count(*) FROM customers")
            holding.set()
            await asyncio.sleep(seconds)
    finally:
        await connection.close()


async def measure(server_url: str, limits: MigrationLimits, blocker_seconds: float) -> tuple[float, float]:
    """(longest write, migration duration) in seconds, on a fresh database."""
    db = await database.create(server_url)
    try:
        head = await _seed(db.url)
        with tempfile.TemporaryDirectory(prefix="crm-bench-migrations-") as folder:
            migrations = _migrations_with_one_more(Path(folder), head)
            stop, holding = asyncio.Event(), asyncio.Event()
            writer = asyncio.create_task(_write_until(db.url, stop))
            await asyncio.sleep(0.3)
            report = asyncio.create_task(_report(db.url, blocker_seconds, holding))
            await holding.wait()
            started = time.perf_counter()
            await migrate(db.url, contract=False, migrations=migrations, limits=limits)
            took = time.perf_counter() - started
            await report
            await asyncio.sleep(0.3)
            stop.set()
            return await writer, took
    finally:
        await database.drop(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocker-seconds", type=float, default=3.0, help="how long the report holds its lock")
    arguments = parser.parse_args()
    configured = MigrationLimits.from_environment()
    unbounded = structs.replace(configured, lock_timeout_seconds=3600)
    with database.server() as server_url:
        print(f"A report holds customers for {arguments.blocker_seconds:g} s; a writer updates every 10 ms.")
        print("| lock_timeout | longest write | migration took |")
        print("| --- | --- | --- |")
        for limits in (configured, unbounded):
            longest, took = asyncio.run(measure(server_url, limits, arguments.blocker_seconds))
            print(f"| {limits.lock_timeout_seconds:g} s | {longest * 1000:.0f} ms | {took:.1f} s |")


if __name__ == "__main__":
    main()
