"""Lint the SQL each migration would run: every revision's phase, the expand rules, then squawk.

``make lint`` runs ``python -m scripts.lint_migrations``. For each revision from ``FIRST_LINTED`` on it renders the
offline SQL (``alembic upgrade PREVIOUS:REVISION --sql``, env.py's timeouts included) into a file of its own, then:

1. an *expand* revision may not contain what breaks the release still running beside it (``EXPAND_FORBIDS``:
   a plain list of patterns, matched on the SQL without its comments; string literals and function bodies are
   matched too, so reword such a body or make the revision a contract one);
2. squawk lints every file, with the rules turned off in ``.squawk.toml`` (each with its reason there).

Revisions before ``FIRST_LINTED`` (0001-0006) were applied in production before this check existed; what they
did cannot be undone by a lint, so they are left out on purpose (their PHASE is still checked). Exit status 1
on any finding, with one line per finding.
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from adapters.sql.migrate import MIGRATIONS_FOLDER, alembic_config
from adapters.sql.migration_plan import MigrationError, Revision, chain

REPOSITORY = Path(__file__).resolve().parents[1]
SQUAWK_CONFIG = REPOSITORY / ".squawk.toml"
# The first revision written under the two phases (fair use, issue 20); 0001-0006 are history, see above.
FIRST_LINTED = "0007"

# What an expand revision may not do: the previous release still reads and writes the schema it expands.
EXPAND_FORBIDS: tuple[tuple[str, str], ...] = (
    (r"\bDROP\b", "drops what the running release may still use"),
    (r"\bRENAME\b", "renames what the running release uses by its old name"),
    (r"\bALTER\s+COLUMN\s+\S+\s+(SET\s+DATA\s+)?TYPE\b", "changes a column's type under the running release"),
    (r"\bSET\s+NOT\s+NULL\b", "requires a value the running release may not write"),
    (r"\bTRUNCATE\b", "empties a table the running release uses"),
)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


@dataclass(frozen=True)
class Rendered:
    revision: Revision
    path: Path


def render(scripts: ScriptDirectory, migrations: Path, revision: Revision, folder: Path) -> Rendered:
    """The offline SQL of one revision, in ``folder``; fails loudly when alembic renders nothing."""
    script = scripts.get_revision(revision.id)
    assert script is not None
    previous = script.down_revision or "base"
    assert isinstance(previous, str), "the chain is linear"
    config = alembic_config(migrations)
    config.output_buffer = io.StringIO()
    command.upgrade(config, f"{previous}:{revision.id}", sql=True)
    sql = config.output_buffer.getvalue()
    if "alembic_version" not in sql:
        raise MigrationError(f"alembic rendered no SQL for revision {revision.id}:\n{sql}")
    path = folder / f"{revision.id}_{revision.phase}.sql"
    path.write_text(sql)
    return Rendered(revision, path)


def expand_findings(rendered: Rendered) -> list[str]:
    """``file:line: why`` for each forbidden statement in an expand revision (none for a contract one)."""
    if rendered.revision.phase != "expand":
        return []
    sql = _COMMENTS.sub(lambda comment: "\n" * comment.group().count("\n"), rendered.path.read_text())
    findings = []
    for pattern, why in EXPAND_FORBIDS:
        for match in re.finditer(pattern, sql, re.IGNORECASE):
            line = sql.count("\n", 0, match.start()) + 1
            findings.append(
                f"{rendered.path.name}:{line}: expand revision {rendered.revision.id} {why} ({match.group()});"
                " make it a contract revision (PHASE = 'contract') or expand differently"
            )
    return findings


def squawk(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).parent / "squawk"
    return subprocess.run(
        [str(binary), "--config", str(SQUAWK_CONFIG), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def lint(migrations: Path, folder: Path, first: str = FIRST_LINTED) -> list[str]:
    """Every finding, one line (or squawk's block) each; empty when all is well."""
    scripts = ScriptDirectory.from_config(alembic_config(migrations))
    revisions = chain(scripts)  # every revision, history too, must declare its phase
    # From the first revision at or after ``first`` (numbers sort as text: four digits each).
    start = next((index for index, revision in enumerate(revisions) if revision.id >= first), len(revisions))
    linted = revisions[start:]
    rendered = [render(scripts, migrations, revision, folder) for revision in linted]
    findings = [finding for one in rendered for finding in expand_findings(one)]
    if rendered:
        result = squawk([one.path for one in rendered])
        if result.returncode != 0:
            findings.append(f"squawk found problems:\n{result.stdout}{result.stderr}")
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=Path, default=MIGRATIONS_FOLDER, help="Alembic's script folder")
    parser.add_argument("--keep", type=Path, help="write the rendered SQL here instead of a temporary folder")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="crm-migration-sql-") as temporary:
        folder = arguments.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            findings = lint(arguments.migrations, folder)
        except MigrationError as error:
            findings = [str(error)]
        for finding in findings:
            print(finding, file=sys.stderr)
        linted = sorted(path.name for path in folder.glob("*.sql"))
    if not findings:
        print(f"Migrations: {len(linted)} revisions from {FIRST_LINTED} on linted ({', '.join(linted) or 'none yet'}).")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
