"""The in-memory database: committed state that units of work read and replace."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from uuid import UUID

from domain.customer_history import CustomerChange
from domain.customers import Customer, TrashedCustomer
from domain.sign_in import RefreshToken, SignInSession
from domain.users import User


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
    sign_in_sessions: dict[UUID, SignInSession] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)

    def copy(self) -> Tables:
        return Tables(
            users=dict(self.users),
            customers=dict(self.customers),
            trash=dict(self.trash),
            customer_changes=dict(self.customer_changes),
            sign_in_sessions=dict(self.sign_in_sessions),
            refresh_tokens=dict(self.refresh_tokens),
        )


class InMemoryStore:
    """What a database server would hold: the committed tables and the lock that writers take.

    One lock for everything stands in for PostgreSQL's row locks: a unit of work takes it at its
    first write or locking read and keeps it until it ends, so writers run one after another.
    """

    def __init__(self) -> None:
        self.committed = Tables()
        self.write_lock = asyncio.Lock()
