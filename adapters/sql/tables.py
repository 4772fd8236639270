"""The whole database schema: every table registered on one ``metadata``, which the migrations are checked against.

The tables themselves live with the part of the CRM they serve (``access.user_tables``, ``access.actor_tables``,
``customers.tables``, ``integrations.tables``, the Idempotency-Key records in ``idempotency`` and fair use's
``access.admission_tables``); this module
gathers them because alembic's ``migrations/env.py`` and the tests' clean-up need the complete schema at once.
"""

from __future__ import annotations

from adapters.sql.access.actor_tables import actors, api_keys
from adapters.sql.access.admission_tables import rate_limit_admissions, rate_limit_replicas
from adapters.sql.access.user_tables import refresh_tokens, sign_in_failures, sign_in_sessions, users
from adapters.sql.customers.event_tables import customer_event_commits, customer_events
from adapters.sql.customers.tables import customer_changes, customers
from adapters.sql.idempotency import idempotency_records
from adapters.sql.integrations.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhooks,
)
from adapters.sql.schema import metadata

__all__ = ["ALL_TABLES", "metadata"]

# Every table, children first: the order to truncate or drop them in.
ALL_TABLES = (
    rate_limit_admissions,
    rate_limit_replicas,
    idempotency_records,
    webhook_attempts,
    webhook_deliveries,
    webhook_events,
    webhooks,
    customer_events,
    customer_event_commits,
    customer_changes,
    api_keys,
    refresh_tokens,
    sign_in_sessions,
    customers,
    actors,
    sign_in_failures,
    users,
)
