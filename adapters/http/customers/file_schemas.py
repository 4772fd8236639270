"""The JSON shapes of the trash and of the import's report (contract version 1.1)."""

from __future__ import annotations

from datetime import datetime

from msgspec import Struct

from adapters.http.common.schemas import UserRefOut
from adapters.http.customers.schemas import CustomerOut


class TrashedCustomerOut(CustomerOut):
    """A customer in the trash, as it will come back, with when and by whom it was deleted."""

    deleted_at: datetime
    deleted_by: UserRefOut


class TrashPage(Struct):
    items: list[TrashedCustomerOut]
    next_cursor: str | None


class ImportProblemOut(Struct):
    # The file's row, the header being row 1.
    row: int
    field: str
    message: str


class ImportReportOut(Struct):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    errors: list[ImportProblemOut]
