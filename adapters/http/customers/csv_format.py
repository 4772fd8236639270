"""Customers as CSV files: the export's rows (RFC 4180, UTF-8) and the import's reading of a file.

Spreadsheets run a cell that starts with ``= + - @``, a tab or a carriage return as a formula (CSV
injection, OWASP): the export writes such a cell with a leading ``'``, which spreadsheets show as
text. To keep an exported file importable as it is, the import removes that one ``'`` again. A value
that itself starts with ``'`` before such a character gets one more ``'`` on the way out, so the
round trip gives back every value exactly.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import msgspec

from application.customers.importing import (
    IMPORT_COLUMNS,
    MAX_IMPORT_ROWS,
    REQUIRED_COLUMNS,
    ImportRow,
    ImportTooLarge,
)
from domain.customers import Customer
from domain.errors import FieldProblem, InvalidInput

EXPORT_COLUMNS = (
    "id",
    "name",
    "surname",
    "email",
    "phone",
    "notes",
    "photo_url",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
)
# The export's columns that describe a customer but cannot be set: an import accepts and ignores them.
READ_ONLY_COLUMNS = frozenset(EXPORT_COLUMNS) - frozenset(IMPORT_COLUMNS)

_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
# The first characters that may need a look at all: most cells start with none of them.
_SUSPECT_STARTS = frozenset("'=+-@\t\r")


def neutralise(value: str) -> str:
    """The cell as written to a file: with a leading ``'`` when a spreadsheet would run it."""
    if value[:1] in _SUSPECT_STARTS and _FORMULA.match(value):
        return "'" + value
    return value


def _optional(value: str | None) -> str:
    return "" if value is None else neutralise(value)


def unneutralise(value: str) -> str:
    """The value of a cell that ``neutralise`` wrote."""
    return value[1:] if _NEUTRALISED.match(value) else value


def timestamps(values: Sequence[datetime]) -> list[str]:
    """RFC 3339, exactly as the JSON API writes them; msgspec formats a whole batch at C speed."""
    formatted: list[str] = msgspec.json.decode(msgspec.json.encode(values))
    return formatted


def export_filename(extension: str, now: datetime) -> str:
    return f"customers-{now.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.{extension}"


class CsvWriter:
    """Turns customers into CSV text, a batch at a time."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def header(self) -> bytes:
        self._writer.writerow(EXPORT_COLUMNS)
        return self._take()

    def rows(self, customers: Iterable[tuple[Customer, str | None]]) -> bytes:
        """``customers`` with each one's photo URL."""
        batch = list(customers)
        stamps = timestamps([stamp for customer, _ in batch for stamp in (customer.created_at, customer.updated_at)])
        self._writer.writerows(
            [
                neutralise(customer.id),
                neutralise(customer.name),
                neutralise(customer.surname),
                _optional(customer.email),
                _optional(customer.phone),
                _optional(customer.notes),
                photo_url or "",
                stamps[2 * index],
                neutralise(customer.created_by.name),
                stamps[2 * index + 1],
                neutralise(customer.updated_by.name),
            ]
            for index, (customer, photo_url) in enumerate(batch)
        )
        return self._take()

    def _take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()


def read_import(data: bytes) -> list[ImportRow]:
    """The data rows of an import file; ``InvalidInput`` (422) for a file that is not a usable CSV,
    ``ImportTooLarge`` (413) beyond the row limit."""
    try:
        text = data.decode("utf-8-sig")  # a byte order mark is fine, and dropped
    except UnicodeDecodeError as error:
        raise InvalidInput.single(
            "file", f"must be UTF-8 text (byte {error.start} is not); save the spreadsheet as CSV UTF-8"
        ) from None
    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(records, None)
        if header is None or not any(cell.strip() for cell in header):
            raise InvalidInput.single("file", "needs a header row naming the columns, e.g. id,name,surname")
        columns = _columns(header)
        rows: list[ImportRow] = []
        for number, record in enumerate(records, start=2):
            if not any(record):
                continue  # a blank line
            if len(rows) == MAX_IMPORT_ROWS:
                raise ImportTooLarge
            rows.append(_row(number, columns, record))
    except csv.Error as error:
        raise InvalidInput.single("file", f"is not valid CSV: {error}") from None
    return rows


def _columns(header: Sequence[str]) -> list[str | None]:
    """For each position of the header: the import column it fills, or None for a read-only column."""
    names = [cell.strip().lower() for cell in header]
    problems: list[FieldProblem] = []
    for name in names:
        if name not in IMPORT_COLUMNS and name not in READ_ONLY_COLUMNS:
            problems.append(
                FieldProblem(name or "(empty)", f"is not a column of an import; use {', '.join(IMPORT_COLUMNS)}")
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    problems.extend(FieldProblem(name, "appears twice in the header") for name in duplicates)
    problems.extend(FieldProblem(name, "is a required column") for name in REQUIRED_COLUMNS if name not in names)
    if problems:
        raise InvalidInput(problems)
    return [name if name in IMPORT_COLUMNS else None for name in names]


def _row(number: int, columns: Sequence[str | None], record: Sequence[str]) -> ImportRow:
    values: dict[str, str | None] = {}
    for column, cell in zip(columns, record, strict=False):
        if column is not None:
            values[column] = unneutralise(cell) if cell != "" else None
    return ImportRow(number, values, extra_cells=max(0, len(record) - len(columns)))
