"""/api/v1/customers/export and /import: all customers out as CSV or NDJSON, many in from a CSV file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_422_UNPROCESSABLE_ENTITY

from adapters.http.access.authentication import SECURITY_WITH_API_KEYS
from adapters.http.common.idempotency import IdempotencyKey, answer_once
from adapters.http.common.uploads import MULTIPART_OVERHEAD, file_field, read_at_most
from adapters.http.customers.csv_format import CsvWriter, export_filename, read_import
from adapters.http.customers.file_schemas import ImportProblemOut, ImportReportOut
from adapters.http.customers.routes import SORT_DESCRIPTION
from adapters.http.customers.schemas import CustomerOut
from adapters.http.openapi import examples
from adapters.http.openapi.operations import responses
from application.customers.exporting import ExportCustomers
from application.customers.importing import MAX_IMPORT_BYTES, ImportCustomers, ImportReport, ImportTooLarge
from application.customers.photos import LinkPhotos
from application.idempotency import IdempotentRequests
from application.ports.system import Clock
from domain.customers import Customer
from domain.sign_in import Actor

_MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


class CustomerFilesController(Controller):
    path = "/api/v1/customers"
    tags = ["Customers"]
    security = SECURITY_WITH_API_KEYS

    @get(
        "/export",
        responses={
            200: ResponseSpec(
                data_container=str,
                media_type="text/csv",
                description="The customers, streamed: CSV (RFC 4180, UTF-8) or NDJSON (one customer per line).",
                generate_examples=False,
                examples=[Example(id="export-csv", summary="Two lines of a CSV export", value=examples.EXPORT_CSV)],
            ),
            **responses(400, 401, 422),
        },
        summary="Export customers as CSV or NDJSON",
    )
    async def export_customers(
        self,
        actor: NamedDependency[Actor],
        export_customers: NamedDependency[ExportCustomers],
        link_photos: NamedDependency[LinkPhotos],
        clock: NamedDependency[Clock],
        format: Annotated[  # the contract's parameter name
            Literal["csv", "ndjson"], QueryParameter(name="format", description="csv (default) or ndjson.")
        ] = "csv",
        q: Annotated[
            str | None, QueryParameter(name="q", max_length=200, description="Search id, name, surname and e-mail.")
        ] = None,
        sort: Annotated[str, QueryParameter(name="sort", max_length=20, description=SORT_DESCRIPTION)] = "-created_at",
    ) -> Stream:
        batches = await export_customers.execute(actor, search=q, sort=sort)
        content = _csv(batches, link_photos) if format == "csv" else _ndjson(batches, link_photos)
        filename = export_filename(format, clock.now())
        return Stream(
            content,
            media_type=_MEDIA_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @post(
        "/import",
        responses={
            200: ResponseSpec(
                data_container=ImportReportOut,
                description="Applied, or a dry run without errors. With errors: 422 with the same report.",
                generate_examples=False,
                examples=[Example(id="import-report", summary="An applied import", value=examples.IMPORT_REPORT)],
            ),
            **responses(400, 401, 409, 413, 415, 422),
        },
        summary="Import customers from a CSV file",
        description=(
            "All or nothing: when any row fails, nothing is written and the answer is 422 with the report,"
            " every error with its row (the header is row 1) and field."
        ),
        # read_file() counts the bytes while they stream in, against the import limit.
        request_max_body_size=None,
    )
    async def import_customers(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        import_customers: NamedDependency[ImportCustomers],
        idempotent_requests: NamedDependency[IdempotentRequests],
        mode: Annotated[
            Literal["create", "upsert"],
            QueryParameter(name="mode", description="create: an existing id is an error; upsert: it is updated."),
        ] = "create",
        dry_run: Annotated[bool, QueryParameter(name="dry_run", description="Validate and count only.")] = False,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ImportReportOut]:
        # The file first, against its limit, so that a record is only ever made for a file of an allowed size.
        content = await _read_file(request)

        async def run_import() -> Response[ImportReportOut]:
            report = await import_customers.execute(actor, read_import(content), mode=mode, dry_run=dry_run)
            if report.errors:
                raise _RefusedImport(Response(_report(report), status_code=HTTP_422_UNPROCESSABLE_ENTITY))
            return Response(_report(report), status_code=HTTP_200_OK)

        try:
            return await answer_once(request, actor, idempotency_key, idempotent_requests, run_import, body=content)
        except _RefusedImport as refused:
            return refused.response


class _RefusedImport(Exception):
    """A report with errors: raised through ``answer_once`` so that, like every refusal, it is not kept for the key
    (the same file may be sent again once the data is fixed), then answered as it is."""

    def __init__(self, response: Response[ImportReportOut]) -> None:
        super().__init__("import refused")
        self.response = response


async def _csv(batches: AsyncIterator[list[Customer]], link_photos: LinkPhotos) -> AsyncIterator[bytes]:
    writer = CsvWriter()
    yield writer.header()
    async for batch in batches:
        yield writer.rows([(customer, (await link_photos.execute(customer)).photo_url) for customer in batch])


async def _ndjson(batches: AsyncIterator[list[Customer]], link_photos: LinkPhotos) -> AsyncIterator[bytes]:
    encoder = msgspec.json.Encoder()
    async for batch in batches:
        lines = bytearray()
        for customer in batch:
            links = await link_photos.execute(customer)
            encoder.encode_into(CustomerOut.of(customer, links.photo_url, links.thumbnail_url), lines, len(lines))
            lines.extend(b"\n")
        yield bytes(lines)


def _report(report: ImportReport) -> ImportReportOut:
    return ImportReportOut(
        dry_run=report.dry_run,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        errors=[ImportProblemOut(problem.row, problem.field, problem.message) for problem in report.errors],
    )


async def _read_file(request: Request[Any, Any, Any]) -> bytes:
    """The CSV file, as a ``text/csv`` body or the multipart field ``file``; 413 as soon as it is too large."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        body = await read_at_most(request, MAX_IMPORT_BYTES + MULTIPART_OVERHEAD, ImportTooLarge)
        return file_field(content_type, body, MAX_IMPORT_BYTES, ImportTooLarge, "the CSV file")
    if media_type in ("text/csv", "application/csv"):
        return await read_at_most(request, MAX_IMPORT_BYTES, ImportTooLarge)
    raise HTTPException(status_code=415, detail="Send the file as text/csv or as multipart/form-data (field 'file').")
