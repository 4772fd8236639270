"""Auth change notifications: the database announces every change that ends or alters someone's access.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Triggers send, on the channel ``crm_auth_changes`` (adapters.sql.access.change_listener.CHANNEL):
- ``session:<id>`` when a sign-in session is revoked (or its expiry or user change) or deleted;
- ``user:<id>`` when a user's admin status, name, e-mail, password hash or deletion changes, or the row is deleted;
- ``all`` when either table is truncated.
Every replica's actor cache listens and forgets what changed. ``pg_notify`` in a trigger is delivered
when, and only if, the transaction commits; the same payload twice in one transaction is sent once.
Sending from triggers means no code path can forget to announce a change.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# History: applied in production before the two phases existed, before its release rolled out, hence "expand".
PHASE = "expand"

# One function for every trigger: the row's kind comes as the trigger's argument.
_FUNCTION = """
CREATE FUNCTION crm_notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify('crm_auth_changes', 'all');
    ELSE
        PERFORM pg_notify('crm_auth_changes', TG_ARGV[0] || ':' || OLD.id::text);
    END IF;
    RETURN NULL;
END
$$
"""

_TRIGGERS = {
    "sign_in_sessions": [
        (
            "trg_sign_in_sessions_auth_update",
            "AFTER UPDATE",
            "FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at"
            " OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.user_id IS DISTINCT FROM NEW.user_id)",
            "session",
        ),
        ("trg_sign_in_sessions_auth_delete", "AFTER DELETE", "FOR EACH ROW", "session"),
        ("trg_sign_in_sessions_auth_truncate", "AFTER TRUNCATE", "FOR EACH STATEMENT", "all"),
    ],
    "users": [
        (
            "trg_users_auth_update",
            "AFTER UPDATE",
            "FOR EACH ROW WHEN (OLD.is_admin IS DISTINCT FROM NEW.is_admin OR OLD.name IS DISTINCT FROM NEW.name"
            " OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.password_hash IS DISTINCT FROM NEW.password_hash"
            " OR OLD.email IS DISTINCT FROM NEW.email)",
            "user",
        ),
        ("trg_users_auth_delete", "AFTER DELETE", "FOR EACH ROW", "user"),
        ("trg_users_auth_truncate", "AFTER TRUNCATE", "FOR EACH STATEMENT", "all"),
    ],
}


def upgrade() -> None:
    op.execute(_FUNCTION)
    for table, triggers in _TRIGGERS.items():
        for name, event, level, kind in triggers:
            op.execute(
                f"CREATE TRIGGER {name} {event} ON {table} {level} EXECUTE FUNCTION crm_notify_auth_change('{kind}')"
            )


def downgrade() -> None:
    for table, triggers in _TRIGGERS.items():
        for name, *_ in triggers:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS crm_notify_auth_change()")
