"""Customers in memory, ordered and paged as the SQL adapter does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from adapters.memory.customer_history import InMemoryCustomerHistory
from adapters.memory.store import Tables
from adapters.memory.transaction import Transaction
from application.ports.persistence import CustomerListQuery, CustomerRepository
from domain.customer_history import CustomerChange
from domain.customers import Customer, sort_key
from domain.errors import Conflict
from domain.users import UserRef
from domain.values import CustomerId

DUPLICATE_CUSTOMER = "A customer with this id already exists."


def _resolved(tables: Tables, customer: Customer) -> Customer:
    """A copy whose user references carry the users' current names, as the SQL join gives."""

    def ref(stored: UserRef) -> UserRef:
        user = tables.users.get(stored.id)
        return stored if user is None else UserRef(user.id, user.name)

    return replace(customer, created_by=ref(customer.created_by), updated_by=ref(customer.updated_by))


class InMemoryCustomerRepository(CustomerRepository):
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def add(self, customer: Customer) -> None:
        tables = await self._transaction.writable()
        if customer.id in tables.customers:
            raise Conflict(DUPLICATE_CUSTOMER)
        tables.customers[customer.id] = replace(customer)

    async def get(self, customer_id: CustomerId, *, for_update: bool = False) -> Customer | None:
        tables = await self._transaction.writable() if for_update else self._transaction.readable()
        customer = tables.customers.get(customer_id)
        return None if customer is None else _resolved(tables, customer)

    async def update(self, customer: Customer) -> None:
        tables = await self._transaction.writable()
        if customer.id in tables.customers:
            tables.customers[customer.id] = replace(customer)

    async def delete(self, customer_id: CustomerId) -> None:
        tables = await self._transaction.writable()
        tables.customers.pop(customer_id, None)

    async def list(self, query: CustomerListQuery) -> list[Customer]:
        tables = self._transaction.readable()

        # Python compares strings by code point, which is the order of PostgreSQL's COLLATE "C".
        def position(customer: Customer) -> tuple[Any, str]:
            return sort_key(customer, query.sort), customer.id

        def is_after(customer: Customer) -> bool:
            if query.after is None:
                return True
            if query.sort == "id":
                # The id alone is the position, as in the SQL adapter.
                return customer.id < query.after[1] if query.descending else customer.id > query.after[1]
            return position(customer) < query.after if query.descending else position(customer) > query.after

        found = [
            customer
            for customer in tables.customers.values()
            if (query.search is None or query.search in customer.search_text) and is_after(customer)
        ]
        found.sort(key=position, reverse=query.descending)
        return [_resolved(tables, customer) for customer in found[: query.limit]]

    async def referenced_photo_keys(self, keys: Sequence[str]) -> set[str]:
        wanted: set[str] = set(keys)
        referenced: set[str] = set()
        for customer in self._transaction.readable().customers.values():
            if customer.photo is not None:
                referenced.update(wanted.intersection((customer.photo.key, customer.photo.thumbnail_key)))
        return referenced

    async def add_with_history(self, customer: Customer, created: CustomerChange) -> None:
        # One write under the store's lock: both land at commit, or neither.
        await self.add(customer)
        await InMemoryCustomerHistory(self._transaction).record(created)

    async def update_with_history(self, customer: Customer, change: CustomerChange, *, read_version: int) -> bool:
        tables = await self._transaction.writable()
        stored = tables.customers.get(customer.id)
        if stored is None or stored.version != read_version or stored.created_at != customer.created_at:
            return False
        tables.customers[customer.id] = replace(customer)
        await InMemoryCustomerHistory(self._transaction).record(change)
        return True
