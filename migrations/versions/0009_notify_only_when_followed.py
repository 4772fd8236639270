"""Live changes: a customer write notifies only while some process follows live changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

0008's commit trigger ran ``pg_notify('crm_customer_changes')`` in every transaction with customer changes.
PostgreSQL lets one notifying transaction at a time through its commit (a database-wide lock taken in
``PreCommit_Notify``), whether anyone listens or not: customer writes topped out at about 2,400 commits a second
on the test machine instead of 4,300-5,200. The trigger now notifies only while a live changes listener is
connected to the database: a session whose ``application_name`` starts with ``crm-live-changes:``, which the hub's
LISTEN connection sets (``adapters/sql/customers/events.py``) and holds only while its process has streams (and a
short while after). Any role sees other sessions' ``application_name`` in ``pg_stat_activity``.

A hub that is not woken still polls the feed (``CRM_LIVE_CHANGES_POLL_MS``, under a second), and one that has just
connected reads once at once, so no event waits longer than the poll: the previous release's hubs (0008 code) keep
working with this revision applied. See docs/decisions/0043-notify-only-while-live-changes-are-followed.md.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
PHASE = "expand"

# 0008's function, with the notification behind the check: is a live changes listener connected? Its
# application_name is "crm-live-changes:<process id>" (LISTENER_APPLICATION_NAME in adapters/sql/customers/events.py).
_POSITION_AT_COMMIT = """
CREATE OR REPLACE FUNCTION crm_position_customer_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Shared among writers, held until the commit is visible. A reader takes it exclusively (see SqlCustomerEventFeed):
    -- once it has it, every position given out so far belongs to a finished transaction, and none is given out
    -- while it reads. (Any fixed number: the one lock of customer event positions.)
    PERFORM pg_advisory_xact_lock_shared(2026120621);
    UPDATE customer_event_commits
    SET position = nextval('customer_event_positions'), committed_at = clock_timestamp()
    WHERE xid = NEW.xid;
    -- A notification serialises this commit with every other notifying one: only when a hub is there to hear it.
    -- (Inline, not a function of its own: plpgsql keeps this plan, a SQL function's would be made at each call.)
    IF EXISTS (SELECT 1 FROM pg_stat_activity
               WHERE datname = current_database() AND application_name LIKE 'crm-live-changes:%') THEN
        PERFORM pg_notify('crm_customer_changes', '');
    END IF;
    RETURN NULL;
END
$$
"""


def _function_of_0008() -> str:
    """0008's function as it was, notifying at every commit (its text, so that a downgrade restores it exactly)."""
    path = Path(__file__).with_name("0008_live_changes.py")
    spec = importlib.util.spec_from_file_location("crm_migration_0008", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module._POSITION_AT_COMMIT).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    op.execute(_POSITION_AT_COMMIT)


def downgrade() -> None:
    op.execute(_function_of_0008())
