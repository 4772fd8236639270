"""The migration lint of ``make lint`` (scripts/lint_migrations.py): squawk with .squawk.toml flags DDL that blocks
a table, the expand rules flag what breaks the running release, and well-written revisions pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.sql.migration_limits import MigrationLimits
from scripts.lint_migrations import FIRST_LINTED, lint, main, squawk
from tests.adapters.migrations.conftest import Migrations

TIMEOUTS = "SET lock_timeout = '5000ms';\nSET statement_timeout = '60000ms';\n"


def test_squawk_flags_an_index_built_without_concurrently(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sql"
    bad.write_text(TIMEOUTS + "BEGIN;\nCREATE INDEX ix_customers_notes ON customers (notes);\nCOMMIT;\n")
    result = squawk([bad])
    assert result.returncode != 0
    assert "require-concurrent-index-creation" in result.stdout

    good = tmp_path / "good.sql"
    good.write_text(TIMEOUTS + "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_customers_notes ON customers (notes);\n")
    result = squawk([good])
    assert result.returncode == 0, result.stdout


def test_squawk_flags_ddl_without_a_lock_timeout(tmp_path: Path) -> None:
    bare = tmp_path / "bare.sql"
    bare.write_text("BEGIN;\nALTER TABLE customers ADD COLUMN company text;\nCOMMIT;\n")
    result = squawk([bare])
    assert result.returncode != 0
    assert "require-lock-timeout" in result.stdout


def test_well_written_revisions_of_both_phases_pass(migrations: Migrations, tmp_path: Path) -> None:
    migrations.add(
        FIRST_LINTED,
        "0006",
        "expand",
        upgrade="""
        op.execute("ALTER TABLE customers ADD COLUMN company text")
        safe_ddl.create_index_concurrently("ix_customers_company", "customers", ["company"])
        safe_ddl.add_check("ck_customers_company_short", "customers", "length(company) <= 200")
        safe_ddl.add_foreign_key("fk_webhooks_created_by_actors", "webhooks", ["created_by"], "actors", ["id"])
        """,
    )
    migrations.add(
        "0008",
        FIRST_LINTED,
        "contract",
        upgrade="""
        safe_ddl.acknowledged(
            "ALTER TABLE customers DROP COLUMN notes",
            rule="ban-drop-column",
            why="release 3 reads and writes the notes elsewhere; no running release uses this column",
        )
        """,
    )
    folder = tmp_path / "sql"
    folder.mkdir()
    assert lint(migrations.folder, folder) == []
    assert sorted(path.name for path in folder.glob("*.sql")) == ["0007_expand.sql", "0008_contract.sql"]
    expand = (folder / "0007_expand.sql").read_text()
    # The offline SQL is what the runner does: the timeouts first, the concurrent build outside a transaction.
    lock_timeout, statement_timeout = MigrationLimits.from_environment().session_settings()
    assert expand.startswith(f"{lock_timeout};\n\n{statement_timeout};\n\nBEGIN;")
    assert "COMMIT;\n\nSET statement_timeout = 0;\n\nCREATE INDEX CONCURRENTLY IF NOT EXISTS" in expand
    assert "NOT VALID" in expand
    assert "VALIDATE CONSTRAINT ck_customers_company_short" in expand


def test_an_expand_revision_that_drops_or_blocks_is_flagged(
    migrations: Migrations, capsys: pytest.CaptureFixture[str]
) -> None:
    migrations.add(
        FIRST_LINTED,
        "0006",
        "expand",
        upgrade="""
        op.create_index("ix_customers_notes", "customers", ["notes"])
        op.execute("ALTER TABLE customers RENAME COLUMN phone TO telephone")
        op.drop_column("customers", "notes")
        """,
    )
    assert main(["--migrations", str(migrations.folder)]) == 1
    report = capsys.readouterr().err
    assert "expand revision 0007 drops what the running release may still use (DROP)" in report
    assert "expand revision 0007 renames what the running release uses by its old name (RENAME)" in report
    assert "require-concurrent-index-creation" in report
    assert "ban-drop-column" in report
    assert "renaming-column" in report


def test_the_repository_migrations_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0, capsys.readouterr().err
    assert f"from {FIRST_LINTED} on linted" in capsys.readouterr().out
