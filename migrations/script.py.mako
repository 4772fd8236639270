"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}
# "expand": only adds what the running release ignores (runs before the rollout); "contract": removes or
# tightens what an older release still uses (runs after it). docs/deployment.md, "Migrations".
PHASE = "expand"


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    # A revision that cannot go back raises migrations.safe_ddl.Irreversible saying why.
    ${downgrades if downgrades else "pass"}
