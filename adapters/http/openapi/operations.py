"""The OpenAPI document as a frontend reads it: stable operation ids, problem+json errors with examples,
the security scheme, and the rules that Litestar cannot infer from the handlers."""

from __future__ import annotations

from typing import Any

from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Example,
    OAuthFlow,
    OAuthFlows,
    SecurityScheme,
)

from adapters.http.access.sign_in_schemas import OAuthError
from adapters.http.common.schemas import Problem
from adapters.http.openapi import examples

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
    "follow_customer_changes": "followCustomerChanges",
    "list_trash": "listCustomerTrash",
    "restore_customer": "restoreCustomer",
    "export_customers": "exportCustomers",
    "import_customers": "importCustomers",
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
    "create_api_key": "createApiKey",
    "list_api_keys": "listApiKeys",
    "delete_api_key": "deleteApiKey",
    "health": "getHealth",
    "live": "getLiveness",
    "ready": "getReadiness",
}

_DESCRIPTIONS = {
    304: "Not modified: the ETag in If-None-Match is current.",
    400: "Malformed request (unknown or bad query parameter, cursor or body).",
    401: "Missing, invalid or expired access token.",
    403: "Signed in, but not allowed; for an API key, type /problems/insufficient-scope.",
    404: "Not found.",
    406: "The Accept header excludes the only media type this endpoint answers.",
    409: "Conflicts with the current state (duplicate, last admin).",
    412: "If-Match does not match the current ETag.",
    413: "The body is too large.",
    415: "Unsupported content type.",
    422: "Validation failed; see errors.",
    429: (
        "Too many requests: over a fair-use quota (quota-exceeded, naming violated-policies) or, at sign-in, too many"
        " failed attempts (too-many-requests); nothing was done. Wait Retry-After seconds."
    ),
    503: "A dependency is unavailable, or the database took too long; see Retry-After when present.",
}


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
        examples=[
            Example(id=f"problem-{status}", summary=_DESCRIPTIONS[status], value=examples.problem(status)),
            *(
                [Example(id="quota-exceeded", summary="Over the burst quota", value=examples.QUOTA_EXCEEDED)]
                if status == 429
                else []
            ),
        ],
    )


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem+json documentation for ``statuses``, plus 400 (an unknown query parameter is refused
    everywhere), 429 (every request under /api/v1 counts against a fair-use quota) and 503 (a dependency can
    fail anywhere)."""
    result: dict[int, ResponseSpec] = {}
    for status in sorted({*statuses, 400, 429, 503}):
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
            ),
            "ApiKey": SecurityScheme(
                type="http",
                scheme="bearer",
                bearer_format="crm_…",
                description=(
                    "An API key an admin made (POST /api/v1/api-keys), sent as 'Authorization: Bearer crm_…'. Only"
                    " the customer endpoints take it: reads need the scope customers:read, writes customers:write."
                ),
            ),
        }
    )
