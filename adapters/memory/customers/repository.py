"""Customers in memory, ordered and paged as the SQL adapter does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters.memory.customers.history import InMemoryCustomerHistory
from adapters.memory.store import Tables
from adapters.memory.transaction import Transaction
from application.ports.persistence import CustomerListQuery, CustomerRepository
from domain.customer_history import CustomerChange
from domain.customers import Customer, TrashedCustomer, sort_key
from domain.errors import Conflict
from domain.users import UserRef
from domain.values import CustomerId

DUPLICATE_CUSTOMER = "A customer with this id already exists."


def _resolved(tables: Tables, customer: Customer) -> Customer:
    """A copy whose references carry the current names of their users or API keys, as the SQL join gives."""
    return replace(
        customer, created_by=tables.actor_ref(customer.created_by), updated_by=tables.actor_ref(customer.updated_by)
    )


def _resolved_trashed(tables: Tables, trashed: TrashedCustomer) -> TrashedCustomer:
    return TrashedCustomer(
        _resolved(tables, trashed.customer), trashed.deleted_at, tables.actor_ref(trashed.deleted_by)
    )


class InMemoryCustomerRepository(CustomerRepository):
    def __init__(self, transaction: Transaction) -> None:
        self._transaction = transaction

    async def add(self, customer: Customer) -> None:
        await self.add_many([customer])

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
        tables.trash.pop(customer_id, None)

    async def move_to_trash(self, customer_id: CustomerId, by: UserRef, at: datetime) -> None:
        tables = await self._transaction.writable()
        customer = tables.customers.pop(customer_id, None)
        if customer is not None:
            tables.trash[customer_id] = TrashedCustomer(customer, at, by)

    async def get_trashed(self, customer_id: CustomerId, *, for_update: bool = False) -> TrashedCustomer | None:
        tables = await self._transaction.writable() if for_update else self._transaction.readable()
        trashed = tables.trash.get(customer_id)
        return None if trashed is None else _resolved_trashed(tables, trashed)

    async def restore(self, customer: Customer) -> None:
        tables = await self._transaction.writable()
        if tables.trash.pop(customer.id, None) is not None:
            tables.customers[customer.id] = replace(customer)

    async def list_trash(self, limit: int, after: tuple[datetime, str] | None = None) -> list[TrashedCustomer]:
        tables = self._transaction.readable()

        def position(trashed: TrashedCustomer) -> tuple[datetime, str]:
            return trashed.deleted_at, trashed.customer.id

        found = [trashed for trashed in tables.trash.values() if after is None or position(trashed) < after]
        found.sort(key=position, reverse=True)
        return [_resolved_trashed(tables, trashed) for trashed in found[:limit]]

    async def purge_trash(self, deleted_before: datetime, limit: int) -> list[Customer]:
        tables = await self._transaction.writable()
        expired = sorted(
            (trashed for trashed in tables.trash.values() if trashed.deleted_at < deleted_before),
            key=lambda trashed: (trashed.deleted_at, trashed.customer.id),
        )[:limit]
        for trashed in expired:
            del tables.trash[trashed.customer.id]
        return [trashed.customer for trashed in expired]

    async def get_many(self, customer_ids: Sequence[CustomerId], *, for_update: bool = False) -> list[Customer]:
        tables = await self._transaction.writable() if for_update else self._transaction.readable()
        found = (tables.customers.get(customer_id) for customer_id in set(customer_ids))
        return [_resolved(tables, customer) for customer in found if customer is not None]

    async def trashed_among(self, customer_ids: Sequence[CustomerId]) -> set[CustomerId]:
        return set(customer_ids).intersection(self._transaction.readable().trash)

    async def add_many(self, customers: Sequence[Customer]) -> None:
        tables = await self._transaction.writable()
        ids = [customer.id for customer in customers]
        if len(set(ids)) < len(ids) or any(i in tables.customers or i in tables.trash for i in ids):
            raise Conflict(DUPLICATE_CUSTOMER)
        for customer in customers:
            tables.customers[customer.id] = replace(customer)

    async def update_many(self, customers: Sequence[Customer]) -> None:
        for customer in customers:
            await self.update(customer)

    async def referenced_photo_keys(self, keys: Sequence[str]) -> set[str]:
        wanted: set[str] = set(keys)
        referenced: set[str] = set()
        tables = self._transaction.readable()
        # A trashed customer's photo is kept for its restoration.
        everyone = [*tables.customers.values(), *(trashed.customer for trashed in tables.trash.values())]
        for customer in everyone:
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
