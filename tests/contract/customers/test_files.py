"""Export batches and the bulk import, on every adapter: the same customers out, the same rows in."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from application.customers.exporting import ExportCustomers
from application.customers.importing import ImportCustomers, ImportRow, RowProblem
from domain.customers import Customer
from domain.sign_in import Actor
from domain.values import CustomerId
from tests.contract.builders import T0, Backend, make_customer, make_user, read, save_customers, save_users
from tests.support.clock import ManualClock


async def _exported(backend: Backend, actor: Actor, **options: object) -> list[list[Customer]]:
    return [batch async for batch in await ExportCustomers(backend.uow).execute(actor, **options)]  # type: ignore[arg-type]


async def test_the_export_reads_every_customer_in_keyset_batches_in_the_lists_order(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    actor = Actor(clerk.id, clerk.name, False, uuid4())
    await save_customers(
        backend,
        *(
            make_customer(f"C-{n:02}", "Ada", f"Surname {n % 3}", by=clerk, at=T0 + timedelta(seconds=n))
            for n in range(7)
        ),
    )
    batches = await _exported(backend, actor, batch_size=3)
    assert [len(batch) for batch in batches] == [3, 3, 1]
    assert [customer.id for batch in batches for customer in batch] == [f"C-{n:02}" for n in reversed(range(7))]

    by_surname = await _exported(backend, actor, sort="surname", batch_size=2)
    flat = [(customer.surname, customer.id) for batch in by_surname for customer in batch]
    assert flat == sorted(flat)
    assert len(flat) == 7
    searched = await _exported(backend, actor, search="surname 1", batch_size=2)
    assert sorted(customer.id for batch in searched for customer in batch) == ["C-01", "C-04"]


def _row(number: int, customer_id: str, name: str = "Ada", surname: str = "Lovelace", **more: str | None) -> ImportRow:
    return ImportRow(number, {"id": customer_id, "name": name, "surname": surname, **more})


async def test_the_import_creates_updates_and_records_every_change_all_or_nothing(backend: Backend) -> None:
    clerk = make_user("clerk@example.com", "Clara Clerk")
    await save_users(backend, clerk)
    actor = Actor(clerk.id, clerk.name, False, uuid4())
    await save_customers(
        backend,
        make_customer("C-1", "Ada", "Lovelace", by=clerk),
        make_customer("C-2", "Grace", "Hopper", by=clerk),
    )
    clock = ManualClock(T0 + timedelta(hours=1))
    importer = ImportCustomers(backend.uow, clock)
    rows = [
        _row(2, "C-1", email="ada@example.com"),  # changed
        _row(3, "C-2", "Grace", "Hopper"),  # unchanged
        _row(4, "C-3", "Edsger", "Dijkstra", phone="+31 20 000"),  # new
    ]

    dry = await importer.execute(actor, rows, mode="upsert", dry_run=True)
    assert (dry.dry_run, dry.created, dry.updated, dry.unchanged, dry.errors) == (True, 1, 1, 1, [])
    assert await read(backend, lambda uow: uow.customers.get(CustomerId("C-3"))) is None

    refused = await importer.execute(actor, rows, mode="create")
    assert refused.errors == [
        RowProblem(2, "id", "a customer with this id already exists"),
        RowProblem(3, "id", "a customer with this id already exists"),
    ]
    assert await read(backend, lambda uow: uow.customers.get(CustomerId("C-3"))) is None

    report = await importer.execute(actor, rows, mode="upsert")
    assert (report.created, report.updated, report.unchanged, report.errors) == (1, 1, 1, [])
    ada = await read(backend, lambda uow: uow.customers.get(CustomerId("C-1")))
    new = await read(backend, lambda uow: uow.customers.get(CustomerId("C-3")))
    assert ada is not None
    assert new is not None
    assert (ada.email, ada.version, ada.updated_at) == ("ada@example.com", 2, clock.now())
    assert (new.name, new.phone, new.created_by.name) == ("Edsger", "+31 20 000", "Clara Clerk")
    ada_history = await read(backend, lambda uow: uow.customer_history.list(CustomerId("C-1"), 10))
    assert [(change.kind, [(f.field, f.old, f.new) for f in change.changes]) for change in ada_history] == [
        ("updated", [("email", None, "ada@example.com")])
    ]
    new_history = await read(backend, lambda uow: uow.customer_history.list(CustomerId("C-3"), 10))
    assert [change.kind for change in new_history] == ["created"]
    assert await read(backend, lambda uow: uow.customer_history.list(CustomerId("C-2"), 10)) == []


async def test_an_import_with_bad_rows_names_each_and_writes_nothing(backend: Backend) -> None:
    clerk = make_user("clerk@example.com")
    await save_users(backend, clerk)
    actor = Actor(clerk.id, clerk.name, False, uuid4())
    rows = [_row(n, f"C-{n}") for n in range(2, 12)]
    rows[2] = _row(4, "C-4", email="not an e-mail")
    rows[5] = _row(7, "C-2")  # the id of row 2 again
    rows[7] = ImportRow(9, {"id": "bad id!", "name": None, "surname": "X"})
    report = await ImportCustomers(backend.uow, ManualClock()).execute(actor, rows)
    assert [(problem.row, problem.field) for problem in report.errors] == [
        (4, "email"),
        (7, "id"),
        (9, "id"),
        (9, "name"),
    ]
    assert await read(backend, lambda uow: uow.customers.get_many([CustomerId(f"C-{n}") for n in range(2, 12)])) == []
