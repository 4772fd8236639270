"""Which revisions a migration step applies: the two phases, the schema ahead of the code, the refused orders.

Every migration module declares ``PHASE = "expand"`` (adds only what the running release ignores: it may run
before the new release rolls out) or ``PHASE = "contract"`` (removes or tightens what an older release still uses:
only once no such release runs). The chain of revisions stays linear, so a phase is a prefix of what is pending:
``crm migrate`` applies the pending expand revisions up to the first pending contract one; ``crm migrate
--contract`` applies everything. docs/deployment.md, "Migrations", tells the rule with an example.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alembic.script import Script, ScriptDirectory

Phase = Literal["expand", "contract"]
PHASES: tuple[Phase, ...] = ("expand", "contract")


class MigrationError(Exception):
    """A migration step that did not (fully) happen; the message is one line for the operator."""


class PhaseOrderRefused(MigrationError):
    """An expand revision waits behind a pending contract revision: the earlier release was never contracted."""


@dataclass(frozen=True)
class Revision:
    id: str
    phase: Phase


@dataclass(frozen=True)
class SchemaAhead:
    """The database is at a revision this release does not know: a newer release migrated it."""

    database: str
    known_head: str

    def message(self) -> str:
        return (
            f"The schema is ahead of this release: the database is at revision {self.database}, this release knows"
            f" revisions up to {self.known_head}. Nothing was changed (a rollback runs on the newer schema)."
        )


@dataclass(frozen=True)
class Plan:
    """What one step applies (``target`` None: nothing) and what it leaves for the contract phase."""

    current: str | None
    apply: tuple[Revision, ...]
    held_back: tuple[Revision, ...]

    @property
    def target(self) -> str | None:
        return self.apply[-1].id if self.apply else None

    def summary(self) -> str:
        said = f"Applied {', '.join(f'{r.id} ({r.phase})' for r in self.apply)}." if self.apply else "Nothing to apply."
        said += f" The database is at revision {self.target or self.current or '(none)'}."
        if self.held_back:
            said += (
                f" Stopped before contract revision {self.held_back[0].id} ({len(self.held_back)} held back): run"
                " `crm migrate --contract` once no older release is running."
            )
        return said


def phase_of(script: Script) -> Phase:
    phase = getattr(script.module, "PHASE", None)
    if phase not in PHASES:
        raise MigrationError(
            f"Migration {script.revision} ({script.path}) must declare PHASE = 'expand' or 'contract', not {phase!r}."
        )
    return phase  # type: ignore[no-any-return]


def chain(scripts: ScriptDirectory) -> list[Revision]:
    """Every revision, oldest first, with its phase; the chain must not branch."""
    if len(scripts.get_heads()) > 1:
        raise MigrationError(f"The migrations have several heads ({', '.join(scripts.get_heads())}): keep one chain.")
    return [Revision(script.revision, phase_of(script)) for script in reversed(list(scripts.walk_revisions()))]


def plan(scripts: ScriptDirectory, current: str | None, *, contract: bool) -> Plan | SchemaAhead:
    """The step from ``current`` (None: an empty database): expand only, or everything when ``contract``."""
    revisions = chain(scripts)
    ids = [revision.id for revision in revisions]
    if current is not None and current not in ids:
        return SchemaAhead(database=current, known_head=ids[-1] if ids else "(none)")
    pending = revisions[ids.index(current) + 1 :] if current is not None else revisions
    if contract:
        return Plan(current, tuple(pending), ())
    first_contract = next((i for i, revision in enumerate(pending) if revision.phase == "contract"), len(pending))
    expand, held_back = pending[:first_contract], pending[first_contract:]
    later_expand = next((revision for revision in held_back if revision.phase == "expand"), None)
    if later_expand is not None:
        raise PhaseOrderRefused(
            f"Expand revision {later_expand.id} comes after contract revision {held_back[0].id}, which was never"
            f" applied: run the contract phase of the earlier release first (`crm migrate --contract` with the"
            f" release that brought {held_back[0].id}), then this step again."
        )
    return Plan(current, tuple(expand), tuple(held_back))
