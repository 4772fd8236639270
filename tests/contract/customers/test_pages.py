"""Customer lists: keyset pages in every order, stable under inserts, and the "q" search."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

import pytest

from application.customers.reading import ListCustomers
from application.ports.persistence import CustomerListQuery, CustomerSortField
from domain.customers import Customer, sort_key
from domain.sign_in import Actor
from domain.users import User
from domain.values import CustomerId, search_key
from tests.contract.builders import T0, Backend, make_customer, make_user, read, save_customers, save_users

SORTS: tuple[CustomerSortField, ...] = get_args(CustomerSortField)
ORDERS = [(sort, descending) for sort in SORTS for descending in (False, True)]


def _at(seconds: int) -> Any:
    return T0 + timedelta(seconds=seconds)


def _catalogue(by: User) -> list[Customer]:
    """Ties in every sort column, accents and case that sort as their plain forms."""
    rows = [
        # id, name, surname, created (s), updated (s), e-mail
        ("C-01", "Zoë", "Adams", 0, 50, "zoe@example.com"),
        ("C-02", "zoe", "Brown", 0, 40, None),
        ("C-03", "Émile", "Zola", 1, 40, "emile@example.org"),
        ("c-04", "emile", "zola", 1, 30, None),
        ("C-05", "Ada", "Émond", 2, 30, None),
        ("C-06", "Ángel", "Young", 2, 20, None),
        ("C-07", "Bob", "adams", 3, 20, None),
        ("C-10", "bob", "Adams", 3, 10, None),
        ("a-1", "Zed", "Émond", 4, 10, None),
        ("B_2", "50% Off", "Back\\slash", 5, 0, "deals@shop.example"),
    ]
    customers = []
    for customer_id, name, surname, created, updated, email in rows:
        customer = make_customer(customer_id, name, surname, by=by, at=_at(created), email=email)
        customer.updated_at = _at(updated)
        customers.append(customer)
    return customers


def _expected(customers: list[Customer], sort: str, descending: bool) -> list[str]:
    ordered = sorted(customers, key=lambda customer: (sort_key(customer, sort), customer.id), reverse=descending)
    return [customer.id for customer in ordered]


def _position(customer: Customer, sort: str) -> tuple[Any, str]:
    return sort_key(customer, sort), customer.id


@pytest.fixture
async def clerk(backend: Backend) -> User:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    return clerk


@pytest.fixture
async def catalogue(backend: Backend, clerk: User) -> list[Customer]:
    customers = _catalogue(clerk)
    await save_customers(backend, *customers)
    return customers


async def _list(backend: Backend, query: CustomerListQuery) -> list[Customer]:
    """The page, read in a transaction and in a unit of work for reading (which PostgreSQL answers
    through its own fast path): both must give the same customers."""
    in_transaction = await read(backend, lambda uow: uow.customers.list(query))
    async with backend.uow.for_reading() as uow:
        for_reading = await uow.customers.list(query)
    assert for_reading == in_transaction
    return in_transaction


async def _walk(
    backend: Backend, sort: CustomerSortField, descending: bool, limit: int, search: str | None = None
) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(50):
        query = CustomerListQuery(limit=limit, sort=sort, descending=descending, search=search, after=after)
        page = await _list(backend, query)
        seen.extend(customer.id for customer in page)
        if len(page) < limit:
            return seen
        after = _position(page[-1], sort)
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize(("sort", "descending"), ORDERS)
async def test_pages_follow_the_sort_order_with_ties_broken_by_id(
    backend: Backend, catalogue: list[Customer], sort: CustomerSortField, descending: bool
) -> None:
    expected = _expected(catalogue, sort, descending)
    assert await _walk(backend, sort, descending, limit=3) == expected
    # One page with everything gives the same order as pages of three.
    assert await _walk(backend, sort, descending, limit=100) == expected


async def test_names_sort_ignoring_case_and_accents(backend: Backend, catalogue: list[Customer]) -> None:
    names = [
        (customer.name, customer.id)
        for customer in await _list(backend, CustomerListQuery(limit=100, sort="name", descending=False))
    ]
    assert names == [
        ("50% Off", "B_2"),
        ("Ada", "C-05"),
        ("Ángel", "C-06"),
        ("Bob", "C-07"),
        ("bob", "C-10"),
        ("Émile", "C-03"),
        ("emile", "c-04"),
        ("Zed", "a-1"),
        ("Zoë", "C-01"),
        ("zoe", "C-02"),
    ]


@pytest.mark.parametrize(("sort", "descending"), ORDERS)
async def test_pages_stay_stable_when_customers_are_added_and_removed_between_them(
    backend: Backend, catalogue: list[Customer], clerk: User, sort: CustomerSortField, descending: bool
) -> None:
    base = CustomerListQuery(limit=4, sort=sort, descending=descending)
    first = await _list(backend, base)
    after = _position(first[-1], sort)

    # One newcomer sorts before the position reached, one after it; one unseen customer goes.
    early, late = (
        make_customer("A-0", "Aaa", "Aaa", by=clerk, at=_at(-10)),
        make_customer("Z-9", "Zzz", "Zzz", by=clerk, at=_at(99)),
    )
    early.updated_at, late.updated_at = _at(-10), _at(99)
    if descending:
        early, late = late, early
    await save_customers(backend, early, late)
    unseen = _expected(catalogue, sort, descending)[6]
    async with backend.uow() as uow:
        await uow.customers.delete(CustomerId(unseen))
        await uow.commit()

    rest = await _list(backend, CustomerListQuery(limit=100, sort=sort, descending=descending, after=after))
    now_listed = [customer for customer in [*catalogue, early, late] if customer.id != unseen]
    ordered = _expected(now_listed, sort, descending)
    expected_rest = ordered[ordered.index(first[-1].id) + 1 :]
    assert [customer.id for customer in rest] == expected_rest
    assert early.id not in expected_rest
    assert late.id in expected_rest
    assert not {customer.id for customer in first} & {customer.id for customer in rest}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ZOE", {"C-01", "C-02"}),
        ("zoë", {"C-01", "C-02"}),
        ("ÉMILE", {"C-03", "c-04"}),
        ("émond", {"C-05", "a-1"}),
        ("example.org", {"C-03"}),
        ("c-1", {"C-10"}),
        # LIKE's wildcards and its escape character are plain characters in a search.
        ("%", {"B_2"}),
        ("_", {"B_2"}),
        ("o_e", set()),
        ("z%a", set()),
        ("k\\s", {"B_2"}),
        ("nobody", set()),
    ],
)
async def test_search_finds_id_name_surname_and_email_ignoring_case_and_accents(
    backend: Backend, catalogue: list[Customer], text: str, expected: set[str]
) -> None:
    query = CustomerListQuery(limit=100, search=search_key(text))
    assert {customer.id for customer in await _list(backend, query)} == expected


async def test_search_results_are_paged_in_order(backend: Backend, catalogue: list[Customer]) -> None:
    matching = [customer for customer in catalogue if "e" in customer.search_text]
    assert len(matching) > 4
    assert await _walk(backend, "surname", True, limit=2, search="e") == _expected(matching, "surname", True)


@pytest.mark.parametrize("sort", ["-created_at", "updated_at", "name", "-id"])
async def test_the_list_use_case_pages_through_everything_with_cursors(
    backend: Backend, catalogue: list[Customer], clerk: User, sort: str
) -> None:
    """Cursors carry the position through text (datetimes with microseconds included)."""
    list_customers = ListCustomers(backend.uow)
    actor = Actor(clerk.id, clerk.name, is_admin=False, session_id=clerk.id)
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = await list_customers.execute(actor, limit=3, cursor=cursor, sort=sort)
        seen.extend(customer.id for customer in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    field = sort.removeprefix("-")
    assert seen == _expected(catalogue, field, sort.startswith("-"))
