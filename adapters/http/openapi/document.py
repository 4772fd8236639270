"""What Litestar cannot infer from the handlers, added to its OpenAPI document: the domain's rules on
parameters, the response headers a client reads, strict request bodies, examples, and the photo upload's body."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from litestar.openapi.spec import (
    Example,
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    PathItem,
    RequestBody,
    Schema,
)

from adapters.http.openapi import examples, field_rules
from adapters.http.openapi.fair_use import add_fair_use_headers, header, name_violated_policies
from application.customers.importing import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS
from application.customers.photo_rules import PHOTO_CONTENT_TYPES
from application.customers.reading import SORT_FIELDS

_ENTITY_TAGS = {
    "pattern": field_rules.ENTITY_TAGS_PATTERN,
    "format": field_rules.ENTITY_TAGS_FORMAT,
    "max_length": 1024,
    "examples": [examples.ETAG],
}
# Parameter rules by parameter name (the same name means the same thing on every operation).
_PARAMETER_RULES: dict[str, dict[str, Any]] = {
    "customer_id": {
        "pattern": field_rules.CUSTOMER_ID_PATTERN,
        "max_length": 64,
        "examples": ["C-0001"],
    },
    "If-Match": _ENTITY_TAGS,
    "If-None-Match": _ENTITY_TAGS,
    "cursor": {"pattern": field_rules.CURSOR_PATTERN, "min_length": 1, "examples": [examples.CURSOR]},
    # PostgreSQL text cannot hold NUL, so no customer can match it: refused with 400.
    "q": {"examples": ["lovelace"], "pattern": "^[^\\x00]*$"},
    "sort": {"enum": [order for field in SORT_FIELDS for order in (field, f"-{field}")], "max_length": None},
}


_ETAG_HEADER = header(
    "The customer's current ETag, for If-Match and If-None-Match.",
    Schema(type=OpenAPIType.STRING, pattern=field_rules.ETAG_PATTERN),
    examples.ETAG,
)
_NEXT_PAGE = header(
    'The next page (RFC 8288), when there is one: <…?cursor=…>; rel="next".',
    Schema(type=OpenAPIType.STRING),
    f'</api/v1/customers?cursor={examples.CURSOR}>; rel="next"',
    required=False,
)


def _location(example: str) -> OpenAPIHeader:
    return header("Where the new resource is.", Schema(type=OpenAPIType.STRING), example)


# Response headers a client reads, by operationId and status.
_RESPONSE_HEADERS: dict[str, dict[str, dict[str, OpenAPIHeader]]] = {
    "createCustomer": {"201": {"ETag": _ETAG_HEADER, "Location": _location("/api/v1/customers/C-0001")}},
    "getCustomer": {"200": {"ETag": _ETAG_HEADER}, "304": {"ETag": _ETAG_HEADER}},
    "updateCustomer": {"200": {"ETag": _ETAG_HEADER}},
    "createUser": {"201": {"Location": _location(f"/api/v1/users/{examples.USER['id']}")}},
    "listCustomers": {"200": {"Link": _NEXT_PAGE}},
    "listUsers": {"200": {"Link": _NEXT_PAGE}},
    "listCustomerHistory": {"200": {"Link": _NEXT_PAGE}},
    "listCustomerTrash": {"200": {"Link": _NEXT_PAGE}},
    "restoreCustomer": {"200": {"ETag": _ETAG_HEADER}},
    "exportCustomers": {
        "200": {
            "Content-Disposition": header(
                "An attachment, named by the UTC time of the export.",
                Schema(type=OpenAPIType.STRING),
                'attachment; filename="customers-20261127T103000Z.csv"',
            )
        }
    },
}


def complete_document(document: OpenAPI, strict_bodies: Iterable[str]) -> None:
    """Add to Litestar's document what it cannot infer from the handlers."""
    schemas = document.components.schemas or {}
    for name in strict_bodies:
        # Request bodies refuse fields they do not declare, as the decoder does.
        if (schema := schemas.get(name)) is not None:
            schema.additional_properties = False
    for name, example in examples.BODIES.items():
        if (schema := schemas.get(name)) is not None:
            schema.examples = [example]
    for schema in schemas.values():
        for property_schema in (schema.properties or {}).values():
            if isinstance(property_schema, Schema):
                _collapse_single_choice(property_schema)
    for operation in _operations(document):
        for parameter in operation.parameters or ():
            if isinstance(parameter, Parameter) and isinstance(parameter.schema, Schema):
                _tighten_parameter(parameter, parameter.schema)
        if operation.operation_id == "uploadCustomerPhoto":
            operation.request_body = _photo_upload_body()
        if operation.operation_id == "importCustomers":
            operation.request_body = _csv_import_body()
        if operation.operation_id == "exportCustomers":
            _add_ndjson(operation)
        for status, headers in _RESPONSE_HEADERS.get(operation.operation_id or "", {}).items():
            response = (operation.responses or {}).get(status)
            if isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), **headers}
    name_violated_policies(schemas)
    for path, path_item in (document.paths or {}).items():
        if path.startswith("/api/v1"):
            for operation in _operations_of(path_item):
                add_fair_use_headers(operation)
    drop_example_ids(document)


def drop_example_ids(node: object) -> None:
    """An Example Object has no ``id`` (OpenAPI 3.1 §4.8.19): Litestar keys each example by its ``Example.id`` and
    then copies the id into the object too, which validators and API gateways refuse. The keys stay."""
    if isinstance(node, Example):
        node.id = None
    elif isinstance(node, dict):
        for value in node.values():
            drop_example_ids(value)
    elif isinstance(node, list | tuple):
        for value in node:
            drop_example_ids(value)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            drop_example_ids(getattr(node, field.name))


def _add_ndjson(operation: Operation) -> None:
    # One response, two formats chosen by ?format=: Litestar's ResponseSpec documents one media type.
    response = (operation.responses or {}).get("200")
    if isinstance(response, OpenAPIResponse) and response.content:
        response.content["application/x-ndjson"] = OpenAPIMediaType(
            schema=Schema(type=OpenAPIType.STRING, description="One customer (as in getCustomer) per line.")
        )


def _operations(document: OpenAPI) -> Iterator[Operation]:
    for path_item in (document.paths or {}).values():
        yield from _operations_of(path_item)


def _operations_of(path_item: PathItem) -> Iterator[Operation]:
    for method in ("get", "put", "post", "delete", "patch"):
        if (operation := getattr(path_item, method, None)) is not None:
            yield operation


def _collapse_single_choice(schema: Schema) -> None:
    # Litestar writes a required ``str`` with constraints as {"oneOf": [{"type": "string"}], ...}.
    if schema.one_of and len(schema.one_of) == 1 and isinstance(only := schema.one_of[0], Schema):
        schema.one_of = None
        schema.type = only.type


def _tighten_parameter(parameter: Parameter, schema: Schema) -> None:
    # A parameter is absent or has a value: "null" is not something a header or query string can carry.
    if schema.one_of:
        arms = [arm for arm in schema.one_of if not (isinstance(arm, Schema) and arm.type == OpenAPIType.NULL)]
        if len(arms) == 1 and isinstance(only := arms[0], Schema):
            schema.one_of = None
            schema.type = only.type
            schema.format = schema.format or only.format
    if (rule := _PARAMETER_RULES.get(parameter.name)) is not None:
        for key, value in rule.items():
            setattr(schema, key, value)


def _csv_import_body() -> RequestBody:
    csv = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="A CSV file, UTF-8.")
    form = Schema(
        type=OpenAPIType.OBJECT,
        properties={"file": csv},
        required=["file"],
        description="The CSV file in the form field 'file'.",
    )
    return RequestBody(
        content={"text/csv": OpenAPIMediaType(schema=csv), "multipart/form-data": OpenAPIMediaType(schema=form)},
        required=True,
        description=(
            f"A CSV file, UTF-8, with a header row; at most {MAX_IMPORT_BYTES // (1024 * 1024)} MiB and"
            f" {MAX_IMPORT_ROWS:,} rows: as the raw body (text/csv) or as multipart/form-data (field 'file')."
        ),
    )


def _photo_upload_body() -> RequestBody:
    binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="The image: JPEG, PNG or WebP.")
    form = Schema(
        type=OpenAPIType.OBJECT,
        properties={"file": binary},
        required=["file"],
        description="The image in the form field 'file'; its file name and declared type are ignored.",
    )
    content: dict[str, OpenAPIMediaType] = {"multipart/form-data": OpenAPIMediaType(schema=form)}
    for content_type in sorted(PHOTO_CONTENT_TYPES):
        content[content_type] = OpenAPIMediaType(schema=binary)
    return RequestBody(
        content=content,
        required=True,
        description=(
            "A JPEG, PNG or WebP image, as multipart/form-data (field 'file') or as the raw body with its image"
            " type. The type is read from the bytes; anything else is 415."
        ),
    )
