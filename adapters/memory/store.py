"""The in-memory database: committed state that units of work read and replace."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.api_keys import ApiKey
from domain.customer_events import CustomerEvent
from domain.customer_history import CustomerChange
from domain.customers import Customer, TrashedCustomer
from domain.sign_in import RefreshToken, SignInSession
from domain.users import User, UserRef
from domain.webhooks import Webhook, WebhookEvent


@dataclass(slots=True)
class StoredDelivery:
    """A delivery row as the SQL adapter keeps it; replaced, never changed in place."""

    id: UUID
    webhook_id: UUID
    event_seq: int
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None


@dataclass(slots=True)
class Tables:
    """One version of everything. Entities in it are never changed in place: writers store new
    copies, so that copying the dictionaries is enough to copy a version."""

    users: dict[UUID, User] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    # Customers in the trash, out of ``customers``; their ids are taken all the same.
    trash: dict[str, TrashedCustomer] = field(default_factory=dict)
    # By id: 1, 2, 3... in the order they were recorded; removed only by an erasure.
    customer_changes: dict[int, CustomerChange] = field(default_factory=dict)
    # Live changes: one event per history entry, by the entry's id (writers take turns: commit order too).
    customer_events: dict[int, CustomerEvent] = field(default_factory=dict)
    sign_in_sessions: dict[UUID, SignInSession] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    webhooks: dict[UUID, Webhook] = field(default_factory=dict)
    # The outbox, by sequence number 1, 2, 3...
    webhook_events: dict[int, WebhookEvent] = field(default_factory=dict)
    webhook_deliveries: dict[UUID, StoredDelivery] = field(default_factory=dict)
    # (delivery id, at, status code, duration in ms, excerpt)
    webhook_attempts: list[tuple[UUID, datetime, int | None, int, str]] = field(default_factory=list)
    # Deleted keys stay, as in the SQL adapter.
    api_keys: dict[UUID, ApiKey] = field(default_factory=dict)

    def actor_ref(self, stored: UserRef) -> UserRef:
        """``stored`` with the current name of its user or API key, as the SQL join with ``actors`` gives."""
        user = self.users.get(stored.id)
        if user is not None:
            return user.ref
        key = self.api_keys.get(stored.id)
        return stored if key is None else UserRef(key.id, key.name)

    def copy(self) -> Tables:
        return Tables(
            users=dict(self.users),
            customers=dict(self.customers),
            trash=dict(self.trash),
            customer_changes=dict(self.customer_changes),
            customer_events=dict(self.customer_events),
            sign_in_sessions=dict(self.sign_in_sessions),
            refresh_tokens=dict(self.refresh_tokens),
            webhooks=dict(self.webhooks),
            webhook_events=dict(self.webhook_events),
            webhook_deliveries=dict(self.webhook_deliveries),
            webhook_attempts=list(self.webhook_attempts),
            api_keys=dict(self.api_keys),
        )


class InMemoryStore:
    """What a database server would hold: the committed tables and the lock that writers take.

    One lock for everything stands in for PostgreSQL's row locks: a unit of work takes it at its
    first write or locking read and keeps it until it ends, so writers run one after another.
    """

    def __init__(self) -> None:
        self.committed = Tables()
        self.write_lock = asyncio.Lock()
        # Set when a commit put a webhook event into the outbox: the in-memory NOTIFY.
        self.webhook_events_committed = asyncio.Event()
        # Set when a commit added customer events: the in-memory NOTIFY of live changes.
        self.customer_events_committed = asyncio.Event()
        # The last history id whose event was pruned (0: none).
        self.customer_events_pruned_through = 0
