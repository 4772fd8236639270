"""The OpenAPI document as a frontend reads it: stable operation ids, problem+json errors with examples,
the security scheme, and the rules that Litestar cannot infer from the handlers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Example,
    OAuthFlow,
    OAuthFlows,
    OpenAPI,
    OpenAPIFormat,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    RequestBody,
    Schema,
    SecurityScheme,
)

from adapters.http import examples, field_rules
from adapters.http.schemas import OAuthError, Problem
from application.customers import SORT_FIELDS
from application.photos import PHOTO_CONTENT_TYPES

# The operationId of each handler, by handler function name. Client generators turn these into method
# names (client.listCustomers()), so they are part of the contract: never derive them from paths.
OPERATION_IDS = {
    "token": "signIn",
    "revoke": "signOut",
    "providers": "listSignInProviders",
    "list_customers": "listCustomers",
    "create_customer": "createCustomer",
    "get_customer": "getCustomer",
    "update_customer": "updateCustomer",
    "delete_customer": "deleteCustomer",
    "customer_history": "listCustomerHistory",
    "upload_photo": "uploadCustomerPhoto",
    "remove_photo": "deleteCustomerPhoto",
    "get_me": "getMe",
    "change_my_password": "changeMyPassword",
    "list_users": "listUsers",
    "create_user": "createUser",
    "get_user": "getUser",
    "update_user": "updateUser",
    "delete_user": "deleteUser",
    "create_webhook": "createWebhook",
    "list_webhooks": "listWebhooks",
    "get_webhook": "getWebhook",
    "update_webhook": "updateWebhook",
    "delete_webhook": "deleteWebhook",
    "rotate_webhook_secret": "rotateWebhookSecret",
    "test_webhook": "testWebhook",
    "list_webhook_deliveries": "listWebhookDeliveries",
    "retry_webhook_delivery": "retryWebhookDelivery",
    "health": "getHealth",
    "live": "getLiveness",
    "ready": "getReadiness",
}

_DESCRIPTIONS = {
    304: "Not modified: the ETag in If-None-Match is current.",
    400: "Malformed request (unknown or bad query parameter, cursor or body).",
    401: "Missing, invalid or expired access token.",
    403: "Signed in, but not allowed.",
    404: "Not found.",
    409: "Conflicts with the current state (duplicate, last admin).",
    412: "If-Match does not match the current ETag.",
    413: "The body is too large.",
    415: "Unsupported content type.",
    422: "Validation failed; see errors.",
    429: "Too many attempts; see Retry-After.",
    503: "A dependency is unavailable.",
}

SORT_ORDERS = [order for field in SORT_FIELDS for order in (field, f"-{field}")]


def operation_id(handler: HTTPRouteHandler, *_: Any) -> str:
    """Litestar's ``operation_id_creator``: the listed name; an unlisted handler fails at start-up."""
    try:
        return OPERATION_IDS[handler.handler_name]
    except KeyError:
        raise LookupError(f"Give the handler {handler.handler_name!r} an operationId in OPERATION_IDS.") from None


def _problem(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=_DESCRIPTIONS[status],
        media_type="application/problem+json",
        generate_examples=False,
        examples=[Example(id=f"problem-{status}", summary=_DESCRIPTIONS[status], value=examples.problem(status))],
    )


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem+json documentation for ``statuses``, plus 400 (an unknown query parameter is refused
    everywhere) and 503 (a dependency can fail anywhere)."""
    result: dict[int, ResponseSpec] = {}
    for status in sorted({*statuses, 400, 503}):
        if status == 304:
            result[status] = ResponseSpec(data_container=None, description=_DESCRIPTIONS[status])
        else:
            result[status] = _problem(status)
    return result


def oauth_error_responses() -> dict[int, ResponseSpec]:
    return {
        400: ResponseSpec(
            data_container=OAuthError,
            description="RFC 6749 §5.2 error, e.g. invalid_grant.",
            generate_examples=False,
            examples=[Example(id="invalid-grant", summary="Wrong e-mail or password", value=examples.OAUTH_ERROR)],
        ),
        429: _problem(429),
    }


def security_components(token_url: str) -> Components:
    return Components(
        security_schemes={
            "BearerAuth": SecurityScheme(
                type="oauth2",
                description=(
                    "OAuth 2.0 password grant at the token endpoint: the user's e-mail as username and their"
                    " password. Send the access token as 'Authorization: Bearer <token>'."
                ),
                flows=OAuthFlows(password=OAuthFlow(token_url=token_url, scopes={})),
            )
        }
    )


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
    "q": {"examples": ["lovelace"]},
    "sort": {"enum": SORT_ORDERS, "max_length": None},
}


def _header(description: str, schema: Schema, example: str, *, required: bool = True) -> OpenAPIHeader:
    return OpenAPIHeader(schema=schema, description=description, required=required, example=example)


_ETAG_HEADER = _header(
    "The customer's current ETag, for If-Match and If-None-Match.",
    Schema(type=OpenAPIType.STRING, pattern=field_rules.ETAG_PATTERN),
    examples.ETAG,
)
_NEXT_PAGE = _header(
    'The next page (RFC 8288), when there is one: <…?cursor=…>; rel="next".',
    Schema(type=OpenAPIType.STRING),
    f'</api/v1/customers?cursor={examples.CURSOR}>; rel="next"',
    required=False,
)


def _location(example: str) -> OpenAPIHeader:
    return _header("Where the new resource is.", Schema(type=OpenAPIType.STRING), example)


# Response headers a client reads, by operationId and status.
_RESPONSE_HEADERS: dict[str, dict[str, dict[str, OpenAPIHeader]]] = {
    "createCustomer": {"201": {"ETag": _ETAG_HEADER, "Location": _location("/api/v1/customers/C-0001")}},
    "getCustomer": {"200": {"ETag": _ETAG_HEADER}, "304": {"ETag": _ETAG_HEADER}},
    "updateCustomer": {"200": {"ETag": _ETAG_HEADER}},
    "createUser": {"201": {"Location": _location(f"/api/v1/users/{examples.USER['id']}")}},
    "listCustomers": {"200": {"Link": _NEXT_PAGE}},
    "listUsers": {"200": {"Link": _NEXT_PAGE}},
    "listCustomerHistory": {"200": {"Link": _NEXT_PAGE}},
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
        for status, headers in _RESPONSE_HEADERS.get(operation.operation_id or "", {}).items():
            response = (operation.responses or {}).get(status)
            if isinstance(response, OpenAPIResponse):
                response.headers = {**(response.headers or {}), **headers}


def _operations(document: OpenAPI) -> Iterator[Operation]:
    for path_item in (document.paths or {}).values():
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
