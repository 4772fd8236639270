"""``crm users create-admin``: the first admin from the command line, password on standard input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

PASSWORD = "correct horse battery staple 42"


def _create_admin(database_url: str, tmp_path: Path, email: str, password: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CRM_ENV": "test",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "cli-test-secret-" + "c" * 32,
        "CRM_DATA_DIR": str(tmp_path),
        "CRM_PASSWORD_TIME_COST": "1",
        "CRM_PASSWORD_MEMORY_KIB": "1024",
        "CRM_PASSWORD_PARALLELISM": "1",
    }
    command = [sys.executable, "-m", "crm", "users", "create-admin", "--email", email, "--name", "First Admin"]
    return subprocess.run(
        command, input=password + "\n", env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_creates_an_admin_with_the_password_from_stdin(
    database_url: str, clean_database: AsyncEngine, tmp_path: Path
) -> None:
    run = _create_admin(database_url, tmp_path, "first@example.com", PASSWORD)
    assert run.returncode == 0, run.stderr
    assert "Created admin first@example.com" in run.stderr
    async with clean_database.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT is_admin, password_hash FROM users WHERE email_key = 'first@example.com'")
            )
        ).one()
    assert row.is_admin is True
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in run.stdout + run.stderr


async def test_refuses_a_weak_password_or_a_taken_email(
    database_url: str, clean_database: AsyncEngine, tmp_path: Path
) -> None:
    weak = _create_admin(database_url, tmp_path, "weak@example.com", "password1234")
    assert weak.returncode != 0
    assert "too common" in weak.stderr
    assert _create_admin(database_url, tmp_path, "taken@example.com", PASSWORD).returncode == 0
    taken = _create_admin(database_url, tmp_path, "TAKEN@example.com", PASSWORD)
    assert taken.returncode != 0
    assert "already exists" in taken.stderr
