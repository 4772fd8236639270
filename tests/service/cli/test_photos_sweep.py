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
from sqlalchemy.ext.asyncio import AsyncEngine

from application.customers import NewCustomer
from application.photos import new_photo_keys
from application.users import NewUser
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
