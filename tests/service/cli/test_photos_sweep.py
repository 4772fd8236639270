"""``crm photos sweep`` on local photo storage and PostgreSQL: old orphans go, referenced and young objects stay."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path
from uuid import uuid4

import pytest
from click.testing import CliRunner, Result
from PIL import Image
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from application.access.users import NewUser
from application.customers.editing import NewCustomer
from application.customers.photo_rules import new_photo_keys
from crm.cli import main
from crm.container import build_container
from crm.settings import Settings
from domain.sign_in import SYSTEM_OPERATOR, Actor

SECRET = "sweep-test-secret-" + "s" * 32
HOUR = 3600


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 220)).save(buffer, "JPEG")
    return buffer.getvalue()


def _stored(photo_dir: Path) -> set[str]:
    return {
        path.relative_to(photo_dir).as_posix()
        for path in photo_dir.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


def _age(photo_dir: Path, keys: list[str], seconds: int) -> None:
    then = time.time() - seconds
    for key in keys:
        os.utime(photo_dir / key, (then, then))


async def _sweep(database_url: str, data_dir: Path, *args: str) -> Result:
    env = {
        "CRM_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "CRM_DATA_DIR": str(data_dir),
        "CRM_PHOTO_DIR": str(data_dir / "photos"),
        "CRM_S3_BUCKET": None,
    }
    # The command runs its own event loop: give it a thread of its own.
    return await asyncio.to_thread(CliRunner().invoke, main, ["photos", "sweep", *args], env=env)


@pytest.fixture
async def seeded(clean_database: AsyncEngine, database_url: str, tmp_path: Path) -> list[str]:
    """A customer with a photo, on the database and in the folder; returns the photo's keys."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        secret_key=SECRET,
        data_dir=tmp_path,
        password_time_cost=1,
        password_memory_kib=1024,
        password_parallelism=1,
    )
    container = build_container(settings)
    try:
        user = await container.create_user().execute(SYSTEM_OPERATOR, NewUser("clerk@example.com", "Clerk", None))
        actor = Actor(user.id, user.name, is_admin=False, session_id=uuid4())
        await container.create_customer().execute(actor, NewCustomer("C-1", "Ada", "Lovelace"))
        customer = await container.upload_customer_photo().execute(actor, "C-1", _jpeg())
    finally:
        await container.adapters.engine().dispose()
    assert customer.photo is not None
    return [customer.photo.key, customer.photo.thumbnail_key]


async def test_old_orphans_go_and_referenced_and_young_objects_stay(
    seeded: list[str], database_url: str, tmp_path: Path
) -> None:
    photo_dir = tmp_path / "photos"
    old_orphans, young_orphans = list(new_photo_keys()), list(new_photo_keys())
    for key in old_orphans + young_orphans:
        path = photo_dir / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind by a failed upload")
    _age(photo_dir, seeded + old_orphans, 2 * HOUR)
    _age(photo_dir, young_orphans, 30 * 60)
    assert _stored(photo_dir) == {*seeded, *old_orphans, *young_orphans}

    result = await _sweep(database_url, tmp_path)

    assert result.exit_code == 0, result.output
    assert _stored(photo_dir) == {*seeded, *young_orphans}
    assert "examined 6 objects; deleted 2 orphans; kept 2 in use and 2 younger than 60 minutes" in result.output

    # A shorter grace period makes the young orphans old enough; the referenced photo still stays.
    result = await _sweep(database_url, tmp_path, "--older-than-minutes", "20")
    assert result.exit_code == 0, result.output
    assert _stored(photo_dir) == set(seeded)
    assert "deleted 2 orphans; kept 2 in use" in result.output


async def test_a_grace_period_under_a_minute_is_refused(database_url: str, tmp_path: Path) -> None:
    result = await _sweep(database_url, tmp_path, "--older-than-minutes", "0")
    assert result.exit_code == 2
    assert "older-than-minutes" in result.output


def test_the_sweep_is_listed_in_the_help() -> None:
    result = CliRunner().invoke(main, ["photos", "--help"])
    assert result.exit_code == 0
    assert "sweep" in result.output


async def test_the_sweep_purges_the_trash_after_the_trash_period_photo_included(
    seeded: list[str], clean_database: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    photo_dir = tmp_path / "photos"
    _age(photo_dir, seeded, 2 * HOUR)
    user_id = await _user_id(clean_database)
    # C-1 went to the trash 31 days ago; C-2, a day ago.
    async with clean_database.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO customers (id, name, surname, name_key, surname_key, search_text, created_at, created_by,"
                " updated_at, updated_by, version) SELECT 'C-2', name, surname, name_key, surname_key, 'c-2',"
                " created_at, created_by, updated_at, updated_by, 1 FROM customers WHERE id = 'C-1'"
            )
        )
        for customer_id, days in (("C-1", 31), ("C-2", 1)):
            await connection.execute(
                text(
                    "UPDATE customers SET deleted_at = now() - make_interval(days => :days), deleted_by = :by"
                    " WHERE id = :id"
                ),
                {"days": days, "by": user_id, "id": customer_id},
            )

    result = await _sweep(database_url, tmp_path)

    assert result.exit_code == 0, result.output
    assert "Trash: purged 1 customers deleted more than 30 days ago." in result.output
    assert _stored(photo_dir) == set()
    async with clean_database.connect() as connection:
        left: list[str] = list((await connection.execute(text("SELECT id FROM customers ORDER BY id"))).scalars().all())
    assert left == ["C-2"]


async def _user_id(engine: AsyncEngine) -> object:
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT id FROM users LIMIT 1"))).scalar_one()


async def test_the_sweep_forgets_live_change_events_past_the_replay_window_even_with_nobody_following(
    seeded: list[str], clean_database: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    """Every customer change is kept as an event for resuming streams; without this, a shop that nobody follows
    live would keep them for ever (the hub forgets old ones only while streams are open)."""
    # The seeded customer's creation and its photo: two commits. Both as if made 25 hours ago.
    async with clean_database.begin() as connection:
        await connection.execute(text("UPDATE customer_event_commits SET committed_at = now() - interval '25 hours'"))

    result = await _sweep(database_url, tmp_path)

    assert result.exit_code == 0, result.output
    # The last commit's event stays, so that a stream may still resume from the beginning of what is kept.
    assert "Live changes: forgot 1 events older than 24 hours." in result.output
    async with clean_database.connect() as connection:
        kinds: list[str] = list((await connection.execute(text("SELECT type FROM customer_events"))).scalars().all())
    assert kinds == ["customer.photo_changed"]
    again = await _sweep(database_url, tmp_path)
    assert "Live changes: forgot 0 events older than 24 hours." in again.output
