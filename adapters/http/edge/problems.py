"""Every error leaves as RFC 9457 problem+json with a request id; nothing ever shows a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from adapters.http.common.schemas import FieldError, Problem
from adapters.http.common.strict_json import strict_refusal
from adapters.http.edge.request_ids import request_id_of
from domain.errors import (
    Conflict,
    ContentTooLarge,
    DomainError,
    InsufficientScope,
    InvalidGrant,
    InvalidInput,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    QuotaExceeded,
    ServiceUnavailable,
    TooManyAttempts,
    UnsupportedContent,
)

logger = logging.getLogger("crm.http")

PROBLEM_MEDIA_TYPE = "application/problem+json"
BEARER_CHALLENGE = 'Bearer realm="crm"'

# Ordered from specific to general: the first matching class decides.
_DOMAIN_STATUSES: tuple[tuple[type[DomainError], int, str], ...] = (
    (InvalidInput, 422, "validation-failed"),
    (ContentTooLarge, 413, "content-too-large"),
    (UnsupportedContent, 415, "unsupported-media-type"),
    (MalformedRequest, 400, "malformed-request"),
    (InvalidGrant, 400, "invalid-grant"),
    (NotAuthenticated, 401, "not-authenticated"),
    (InsufficientScope, 403, "insufficient-scope"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (Conflict, 409, "conflict"),
    (PreconditionFailed, 412, "precondition-failed"),
    (TooManyAttempts, 429, "too-many-requests"),
    (QuotaExceeded, 429, "quota-exceeded"),
    (ServiceUnavailable, 503, "service-unavailable"),
)

_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]*)`")
_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    violated_policies: list[str] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=f"/problems/{slug}",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        request_id=request_id_of(request.scope),
        errors=errors if errors is not None else msgspec.UNSET,
        violated_policies=violated_policies if violated_policies is not None else msgspec.UNSET,
    )
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def handle_domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Problem]:
    status, slug = next(
        ((status, slug) for kind, status, slug in _DOMAIN_STATUSES if isinstance(error, kind)), (400, "bad-request")
    )
    headers: dict[str, str] = {}
    errors = None
    if isinstance(error, InvalidInput):
        errors = [FieldError(problem.field, problem.message) for problem in error.problems]
    if isinstance(error, NotAuthenticated):
        has_token = "authorization" in request.headers
        headers["WWW-Authenticate"] = BEARER_CHALLENGE + (', error="invalid_token"' if has_token else "")
    violated = None
    if isinstance(error, TooManyAttempts | QuotaExceeded | ServiceUnavailable) and error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, QuotaExceeded):
        violated = list(error.violated_policies)
    return problem_response(request, status, slug, error.detail, errors, headers, violated)


def handle_validation_error(request: Request[Any, Any, Any], error: ValidationException) -> Response[Problem]:
    """msgspec refused the input: the body shape is wrong (422) or a parameter is (400)."""
    errors: list[FieldError] = []
    from_body = False
    items = error.extra if isinstance(error.extra, list) else []
    if (refusal := strict_refusal(request)) is not None:
        # Strict decoding refused the body; Litestar's error about it only says it got a stand-in.
        items = [item for item in items if item.get("source") != "body"] + [{"message": refusal, "source": "body"}]
    for item in items:
        message = str(item.get("message", "is not valid"))
        field = str(item.get("key", ""))
        from_body = from_body or item.get("source") == "body"
        if unknown := _UNKNOWN_FIELD.search(message):
            field, message = unknown.group(1), "is not a known field"
        elif missing := _MISSING_FIELD.search(message):
            field, message = missing.group(1), "is required"
        elif at := _AT_PATH.search(message):
            field, message = at.group(1) or field, message[: at.start()]
        if field == "data" and message == "'data'":
            return problem_response(request, 400, "malformed-request", "A request body is required.")
        errors.append(FieldError(field or "body", message))
    status = 422 if from_body else 400
    return problem_response(
        request,
        status,
        "validation-failed" if from_body else "malformed-request",
        "The request has invalid values.",
        errors,
    )


def handle_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Problem]:
    status = error.status_code
    if status >= 500:
        logger.error("HTTP error %s: %s", status, error.detail)
        return problem_response(request, status, "server-error", "The service could not answer this request.")
    headers = dict(error.headers or {})  # e.g. Allow on 405
    if status == 401:
        headers["WWW-Authenticate"] = BEARER_CHALLENGE
    slug = _TITLES.get(status, "error").lower().replace(" ", "-")
    return problem_response(request, status, slug, str(error.detail), headers=headers)


def handle_unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Problem]:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem_response(
        request, 500, "server-error", "The service could not answer this request; it has been logged."
    )


def handle_too_deep(request: Request[Any, Any, Any], _: RecursionError) -> Response[Problem]:
    return problem_response(request, 400, "malformed-request", "The JSON body is nested too deeply.")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    RecursionError: handle_too_deep,
    DomainError: handle_domain_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_unexpected_error,
}
