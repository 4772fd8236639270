"""Import: many customers from one file, validated row by row with the API's rules, written all or nothing.

Every row is checked before anything is written, and every problem is reported with its row number,
so a shop fixes its spreadsheet in one pass. With any problem, or on a dry run, nothing is written;
otherwise the new customers, the changed ones and one history entry per change are written in one
transaction, in bulk (the adapters do that set-based). Rows equal to the stored customer change
nothing and are counted as unchanged. An empty cell is null; a column the file does not have at all
leaves that field of an existing customer as it is (an upsert of only id, name and surname does not
clear e-mails).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from application.access.authorization import may_write_customers
from application.customers.details import ID_IN_TRASH, parse_details
from application.ports.persistence import UnitOfWorkFactory
from application.ports.system import Clock
from domain.customer_history import CustomerChange
from domain.customers import EDITABLE_FIELDS, Customer, CustomerDetails
from domain.errors import ContentTooLarge, InvalidInput
from domain.sign_in import Actor
from domain.values import CustomerId

MAX_IMPORT_ROWS = 50_000
MAX_IMPORT_BYTES = 10 * 1024 * 1024
ImportMode = Literal["create", "upsert"]
IMPORT_MODES: tuple[ImportMode, ...] = ("create", "upsert")
# The columns a file may fill; ``id``, ``name`` and ``surname`` are required.
IMPORT_COLUMNS = ("id", *EDITABLE_FIELDS)
REQUIRED_COLUMNS = ("id", "name", "surname")


class ImportTooLarge(ContentTooLarge):
    """More than ``MAX_IMPORT_BYTES`` or ``MAX_IMPORT_ROWS`` (413)."""

    def __init__(self) -> None:
        super().__init__(
            f"An import takes at most {MAX_IMPORT_ROWS:,} rows and {MAX_IMPORT_BYTES // (1024 * 1024)} MiB;"
            " split the file."
        )


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One data row of the file: its row number (the header is row 1) and its cells by column; an empty
    cell or a missing optional column is None."""

    number: int
    values: Mapping[str, str | None]
    # Cells beyond the header's columns: a row that does not fit its header is refused.
    extra_cells: int = 0


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    field: str
    message: str


@dataclass(slots=True)
class ImportReport:
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _ValidRow:
    number: int
    customer_id: CustomerId
    details: CustomerDetails
    # The editable fields the file has columns for; an update leaves the others as they are.
    columns: frozenset[str]

    def applied_to(self, customer: Customer) -> CustomerDetails:
        kept = {name: getattr(customer, name) for name in EDITABLE_FIELDS if name not in self.columns}
        return replace(self.details, **kept)


class ImportCustomers:
    """Any signed-in user may import, as they may create and change customers one by one."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(
        self, actor: Actor, rows: Sequence[ImportRow], *, mode: str = "create", dry_run: bool = False
    ) -> ImportReport:
        may_write_customers(actor)
        if mode not in IMPORT_MODES:
            raise InvalidInput.single("mode", "must be create or upsert")
        if len(rows) > MAX_IMPORT_ROWS:
            raise ImportTooLarge
        report = ImportReport(dry_run=dry_run)
        valid = _validate(rows, report.errors)
        ids = [row.customer_id for row in valid]
        created: list[Customer] = []
        updated: list[Customer] = []
        changes: list[CustomerChange] = []
        async with self._uow() as uow:
            trashed = await uow.customers.trashed_among(ids)
            # Locked until commit, so that no one changes them between this comparison and the write.
            stored = {customer.id: customer for customer in await uow.customers.get_many(ids, for_update=not dry_run)}
            now = self._clock.now()
            for row in valid:
                customer = stored.get(row.customer_id)
                if row.customer_id in trashed:
                    report.errors.append(RowProblem(row.number, "id", ID_IN_TRASH))
                elif customer is None:
                    customer = Customer.register(row.customer_id, row.details, by=actor.ref, at=now)
                    created.append(customer)
                    changes.append(CustomerChange.created(customer))
                elif mode == "create":
                    report.errors.append(RowProblem(row.number, "id", "a customer with this id already exists"))
                elif changed := customer.change_details(row.applied_to(customer), by=actor.ref, at=now):
                    updated.append(customer)
                    changes.append(CustomerChange.updated(customer, changed))
                else:
                    report.unchanged += 1
            report.errors.sort(key=lambda problem: problem.row)
            report.created, report.updated = len(created), len(updated)
            if report.errors or dry_run:
                return report
            await uow.customers.add_many(created)
            await uow.customers.update_many(updated)
            await uow.customer_history.record_many(changes)
            await uow.commit()
        return report


def _validate(rows: Sequence[ImportRow], errors: list[RowProblem]) -> list[_ValidRow]:
    """The rows that pass the API's rules; each problem of the others goes into ``errors``."""
    valid: list[_ValidRow] = []
    first_row_of: dict[str, int] = {}
    for row in rows:
        found: list[RowProblem] = []
        if row.extra_cells:
            found.append(RowProblem(row.number, "row", f"has {row.extra_cells} more cells than the header has columns"))
        raw_id = row.values.get("id")
        customer_id: CustomerId | None = None
        if raw_id is None:
            found.append(RowProblem(row.number, "id", "is required"))
        else:
            try:
                customer_id = CustomerId(raw_id)
            except InvalidInput as error:
                found.extend(RowProblem(row.number, p.field, p.message) for p in error.problems)
            else:
                if (first := first_row_of.setdefault(customer_id, row.number)) != row.number:
                    found.append(RowProblem(row.number, "id", f"appears already in row {first}"))
        try:
            details = parse_details(row.values)
        except InvalidInput as error:
            found.extend(RowProblem(row.number, p.field, p.message) for p in error.problems)
        if found:
            errors.extend(found)
        elif customer_id is not None:
            valid.append(_ValidRow(row.number, customer_id, details, frozenset(row.values)))
    return valid
