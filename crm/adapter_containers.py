"""The driven adapters' containers: which adapter serves each port, on PostgreSQL or in process memory.

``crm.container.Application`` takes one of them as its ``adapters``.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.memory.access.actor_lookup import InMemoryActorLookup
from adapters.memory.access.admission_exchange import InMemoryAdmissionExchange
from adapters.memory.access.sign_in_throttle import InMemorySignInThrottle
from adapters.memory.customers.events import InMemoryCustomerEventFeed
from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.memory.integrations.delivery_queue import InMemoryDeliveryQueue
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.sql.access.actor_lookup import CachedActorLookup
from adapters.sql.access.actor_reads import SqlActorLookup
from adapters.sql.access.admission_exchange import SqlAdmissionExchange
from adapters.sql.access.change_listener import listener_dsn
from adapters.sql.access.sign_in_throttle import SqlSignInThrottle
from adapters.sql.customers.events import SqlCustomerEventFeed
from adapters.sql.engine import create_engine
from adapters.sql.idempotency import SqlIdempotencyRecords
from adapters.sql.integrations.delivery_queue import SqlDeliveryQueue
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from adapters.system.clock import SystemClock
from application.access.changes import AccessChanges
from crm.settings import Settings


class DatabaseAdapters(containers.DeclarativeContainer):
    """Driven adapters on PostgreSQL."""

    settings = providers.Dependency(instance_of=Settings)
    engine = providers.Singleton(
        create_engine,
        database_url=settings.provided.database_url,
        pool_size=settings.provided.db_pool_size,
        max_overflow=settings.provided.db_max_overflow,
        pool_timeout=settings.provided.db_pool_timeout_seconds,
        statement_timeout=settings.provided.db_statement_timeout_seconds,
    )
    unit_of_work = providers.Singleton(
        SqlUnitOfWorkFactory, engine, wait_seconds=settings.provided.db_pool_timeout_seconds
    )
    # What the actor cache hears about changed access goes on to the open live change streams.
    access_changes = providers.Singleton(AccessChanges)
    # Answered from a per-process cache that PostgreSQL LISTEN/NOTIFY keeps current (started by the app's lifespan).
    actors = providers.Singleton(
        CachedActorLookup,
        providers.Singleton(SqlActorLookup, engine),
        dsn=providers.Callable(listener_dsn, settings.provided.database_url),
        access_changes=access_changes,
    )
    # Live changes: read in commit order; its own LISTEN connection wakes the process's stream hub.
    customer_event_feed = providers.Singleton(
        SqlCustomerEventFeed, engine, dsn=providers.Callable(listener_dsn, settings.provided.database_url)
    )
    # In the database, so that the limits hold across every replica.
    sign_in_throttle = providers.Singleton(SqlSignInThrottle, engine)
    idempotency_records = providers.Singleton(SqlIdempotencyRecords, engine)
    # What each replica admitted, exchanged about once a second so that every caller's quota holds across them.
    admission_exchange = providers.Singleton(SqlAdmissionExchange, engine)
    # The webhook outbox; its own LISTEN connection wakes the delivery workers.
    delivery_queue = providers.Singleton(
        SqlDeliveryQueue, engine, dsn=providers.Callable(listener_dsn, settings.provided.database_url)
    )


class InMemoryAdapters(containers.DeclarativeContainer):
    """Driven adapters in process memory: no I/O, nothing survives a restart."""

    settings = providers.Dependency(instance_of=Settings)
    store = providers.Singleton(InMemoryStore)
    unit_of_work = providers.Singleton(InMemoryUnitOfWorkFactory, store)
    access_changes = providers.Singleton(AccessChanges)
    actors = providers.Singleton(InMemoryActorLookup, store, access_changes=access_changes)
    customer_event_feed = providers.Singleton(InMemoryCustomerEventFeed, store)
    sign_in_throttle = providers.Singleton(InMemorySignInThrottle)
    delivery_queue = providers.Singleton(InMemoryDeliveryQueue, store)
    idempotency_records = providers.Singleton(InMemoryIdempotencyRecords)
    admission_exchange = providers.Singleton(InMemoryAdmissionExchange, providers.Singleton(SystemClock))
