"""Schemathesis hooks: drop exactly the failures that docs/api.md lists under "What the document cannot say".

Each case has a name and a test of its own here; a failure is dropped only when every reason the service
gave is explained by one of them, judged from the request that was sent and the problem that came back.
Anything else still fails the run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

from adapters.http.openapi.field_rules import ENTITY_TAGS_FORMAT, ENTITY_TAGS_PATTERN
from domain.errors import InvalidInput
from domain.passwords import check_password_policy
from domain.values import has_control_characters

# Schemathesis narrows header values to letters and digits unless it knows their format, which would
# leave no quoted ETag to send; tell it what an entity-tag list looks like.
schemathesis.openapi.format(
    ENTITY_TAGS_FORMAT, st.from_regex(re.compile(ENTITY_TAGS_PATTERN.removesuffix("$") + r"\Z"), fullmatch=True)
)


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _weak_password(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        check_password_policy(value)
    except InvalidInput:
        return True
    return False


def _in_the_past(value: object) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value) <= datetime.now(UTC)
    except ValueError:
        return False


def _unlisted_character(body: dict[str, Any], field: str) -> bool:
    # Format, private-use and unassigned code points outside the document's list (docs/api.md).
    value = body.get(field)
    return isinstance(value, str) and has_control_characters(value, allow_newlines=field == "notes")


def _explained(case: Any, body: dict[str, Any], error: dict[str, Any]) -> str | None:
    field, message = str(error.get("field")), str(error.get("message"))
    if (
        field == "id"
        and message == "cannot be changed"
        and body.get("id") != (case.path_parameters or {}).get("customer_id")
    ):
        return "changed-id"
    if field == "url" and (
        message.startswith("resolves to an address") or message in ("is not a valid URL", "does not name a valid host")
    ):
        return "webhook-destination"
    if message == "must not contain control characters" and _unlisted_character(body, field):
        return "unlisted-characters"
    if (
        field in ("password", "new_password")
        and message.startswith("is too common")
        and _weak_password(body.get(field))
    ):
        return "common-password"
    if field == "current_password" and message == "is not your current password":
        return "not-the-current-password"
    if field == "expires_at" and message == "must be in the future" and _in_the_past(body.get(field)):
        return "past-expiry"
    return None


def _rejected_valid_request(case: Any, response: Any) -> str | None:
    """The named case that explains why a schema-valid request was refused, if one does."""
    status = response.status_code
    problem = _problem(response)
    operation = case.operation.definition.raw.get("operationId")
    if status == 400 and (case.query or {}).get("cursor") and "cursor" in str(problem.get("detail")):
        return "unissued-cursor"
    if status == 412 and "If-Match" in (case.headers or {}):
        return "stale-etag"
    if operation == "uploadCustomerPhoto" and status in (415, 422):
        return "not-an-image"
    if operation == "importCustomers" and status in (413, 415, 422):
        return "not-a-customer-file"
    errors = problem.get("errors") or []
    if (
        status == 422
        and "Idempotency-Key" in (case.headers or {})
        and [error.get("field") for error in errors] == ["Idempotency-Key"]
    ):
        return "reused-idempotency-key"
    if status == 422 and isinstance(case.body, dict):
        errors = problem.get("errors") or []
        names = {_explained(case, case.body, error) for error in errors}
        if errors and None not in names:
            return ",".join(sorted(str(name) for name in names))
    return None


def _accepted_invalid_request(case: Any, response: Any) -> str | None:
    """The named case that explains why a schema-violating request was not refused with a 4xx it expects."""
    # Preconditions come first (RFC 9110 §13.2.2): a stale ETag is 412 whatever else is wrong.
    if response.status_code == 412 and "If-Match" in (case.headers or {}):
        return "stale-etag"
    return None


_BY_CODE: dict[str, Callable[[Any, Any], str | None]] = {
    "ST202": _rejected_valid_request,
    "ST201": _accepted_invalid_request,
}


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    explain = _BY_CODE.get(getattr(failure, "code", ""))
    return explain is None or explain(case, response) is None
