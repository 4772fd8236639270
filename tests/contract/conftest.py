"""The backends that the contract suite runs against: every test runs once on each."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.memory.actor_lookup import InMemoryActorLookup
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWorkFactory
from adapters.sql.actor_lookup import SqlActorLookup
from adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from tests.contract.builders import Backend


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.database)])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        store = InMemoryStore()
        return Backend(InMemoryUnitOfWorkFactory(store), InMemoryActorLookup(store))
    # Asked for only here, so that the in-memory runs need no database.
    engine: AsyncEngine = request.getfixturevalue("clean_database")
    return Backend(SqlUnitOfWorkFactory(engine), SqlActorLookup(engine))
