"""The backends that the contract suite runs against: every test runs once on each."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.access.actor_lookup import InMemoryActorLookup
from adapters.memory.customers.events import InMemoryCustomerEventFeed
from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.memory.integrations.delivery_queue import InMemoryDeliveryQueue
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.sql.access.actor_reads import SqlActorLookup
from adapters.sql.access.change_listener import listener_dsn
from adapters.sql.customers.events import SqlCustomerEventFeed
from adapters.sql.idempotency import SqlIdempotencyRecords
from adapters.sql.integrations.delivery_queue import SqlDeliveryQueue
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from tests.contract.builders import Backend


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.database)])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        store = InMemoryStore()
        return Backend(
            InMemoryUnitOfWorkFactory(store),
            InMemoryActorLookup(store),
            InMemoryDeliveryQueue(store),
            InMemoryIdempotencyRecords(),
            InMemoryCustomerEventFeed(store),
        )
    # Asked for only here, so that the in-memory runs need no database.
    engine: AsyncEngine = request.getfixturevalue("clean_database")
    dsn = listener_dsn(engine.url.render_as_string(hide_password=False))
    return Backend(
        SqlUnitOfWorkFactory(engine),
        SqlActorLookup(engine),
        SqlDeliveryQueue(engine, dsn),
        SqlIdempotencyRecords(engine),
        SqlCustomerEventFeed(engine, dsn),
    )
