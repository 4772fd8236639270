"""Examples for the OpenAPI document, as a person would write them: one customer, one user, one error of each
kind. They appear in /docs and in generated clients' comments, so they must look like real data."""

from __future__ import annotations

from typing import Any

ADMIN = {"id": "0f8a6c1e-3b2d-4e5f-9a7b-1c2d3e4f5a6b", "name": "Grace Hopper"}
CLERK = {"id": "5d1e2f3a-4b5c-4d6e-8f7a-9b0c1d2e3f4a", "name": "Alan Turing"}
# An ETag is "<version>.<creation time in microseconds, hex>".
ETAG = '"3.6610225118d00"'
CURSOR = "WyItY3JlYXRlZF9hdCIsIjIwMjYtMTEtMjRUMDk6MTU6MDArMDA6MDAiLCJDLTAwMDEiXQ"
# Signed URLs of the local photo storage (S3 gives presigned URLs instead); they expire.
PHOTO_URL = (
    "https://crm.example.com/photos/9f86d081884c7d659a2feaa0c55ad015"
    "?expires=1795511700&type=image%2Fjpeg&signature=Jx3kq0bV9vYtM2hW"
)
THUMBNAIL_URL = (
    "https://crm.example.com/photos/9f86d081884c7d659a2feaa0c55ad015-thumb"
    "?expires=1795511700&type=image%2Fjpeg&signature=Qe7LrP1sZ4nA8cWd"
)

CUSTOMER: dict[str, Any] = {
    "id": "C-0001",
    "name": "Ada",
    "surname": "Lovelace",
    "email": "ada.lovelace@example.com",
    "phone": "+44 20 7946 0958",
    "notes": "Prefers e-mail. Met at the Leeds trade fair.",
    "photo_url": PHOTO_URL,
    "photo_thumbnail_url": THUMBNAIL_URL,
    "created_at": "2026-11-24T09:15:00Z",
    "created_by": CLERK,
    "updated_at": "2026-11-26T14:02:31Z",
    "updated_by": ADMIN,
    "version": 3,
}
USER: dict[str, Any] = {
    "id": CLERK["id"],
    "email": "alan.turing@example.com",
    "name": CLERK["name"],
    "is_admin": False,
    "created_at": "2026-11-02T08:00:00Z",
    "updated_at": "2026-11-02T08:00:00Z",
    "version": 1,
}
CHANGE: dict[str, Any] = {
    "kind": "updated",
    "at": "2026-11-26T14:02:31Z",
    "actor": ADMIN,
    "changes": [{"field": "phone", "old": "+44 20 7946 0000", "new": "+44 20 7946 0958"}],
}
TRASHED: dict[str, Any] = {**CUSTOMER, "deleted_at": "2026-11-27T10:30:00Z", "deleted_by": CLERK}
IMPORT_PROBLEM: dict[str, Any] = {"row": 14, "field": "email", "message": "must be a valid e-mail address"}
IMPORT_REPORT: dict[str, Any] = {"dry_run": False, "created": 1182, "updated": 40, "unchanged": 3, "errors": []}
EXPORT_CSV = (
    "id,name,surname,email,phone,notes,photo_url,created_at,created_by,updated_at,updated_by\r\n"
    "C-0001,Ada,Lovelace,ada.lovelace@example.com,'+44 20 7946 0958,Prefers e-mail.,,"
    "2026-11-24T09:15:00Z,Alan Turing,2026-11-26T14:02:31Z,Grace Hopper\r\n"
)

# Examples of whole bodies, by component schema name. Litestar drops members whose value is None from the
# document, so a required one (next_cursor) shows a value here.
BODIES: dict[str, Any] = {
    "CustomerCreate": {
        "id": "C-0001",
        "name": "Ada",
        "surname": "Lovelace",
        "email": "ada.lovelace@example.com",
        "phone": "+44 20 7946 0958",
        "notes": "Prefers e-mail. Met at the Leeds trade fair.",
    },
    "CustomerPatch": {"phone": "+44 20 7946 0958", "notes": None},
    "CustomerOut": CUSTOMER,
    "CustomerPage": {"items": [CUSTOMER], "next_cursor": CURSOR},
    "CustomerChangeOut": CHANGE,
    "TrashedCustomerOut": TRASHED,
    "TrashPage": {"items": [TRASHED], "next_cursor": CURSOR},
    "ImportProblemOut": IMPORT_PROBLEM,
    "ImportReportOut": IMPORT_REPORT,
    "CustomerHistoryPage": {"items": [CHANGE], "next_cursor": CURSOR},
    "UserCreate": {"email": "alan.turing@example.com", "name": "Alan Turing", "password": "Enigma broken at Bletchley"},
    "UserPatch": {"is_admin": True},
    "UserOut": USER,
    "UserPage": {"items": [USER], "next_cursor": CURSOR},
    "PasswordChange": {
        "current_password": "Enigma broken at Bletchley",
        "new_password": "Bombe machines hum all night",
    },
    "TokenResponse": {
        "access_token": (
            "eyJhbGciOiJIUzI1NiIsImtpZCI6ImNybS0xIiwidHlwIjoiYXQrand0In0"
            ".eyJzdWIiOiI1ZDFlMmYzYS00YjVjLTRkNmUtOGY3YS05YjBjMWQyZTNmNGEifQ"
            ".Vw3kq0bV9vYtM2hWJx3kq0bV9vYtM2hWJx3kq0bV9vY"
        ),
        "expires_in": 900,
        "refresh_token": "q3Zt8vN1xK6bR0wY4mD7cJ2hL9sF5pA8eG3uT6iO1kV",
        "token_type": "Bearer",
    },
    "ProviderOut": {"name": "google", "issuer": "https://accounts.google.com", "client_id": "crm-frontend"},
    "HealthOut": {"status": "ok", "checks": {"database": "ok", "photo_storage": "ok"}},
}

OAUTH_ERROR = {"error": "invalid_grant", "error_description": "The e-mail or password is wrong."}

_PROBLEM_DETAILS = {
    400: ("malformed-request", "Bad request", "Unknown query parameter(s): page."),
    401: (
        "not-authenticated",
        "Not authenticated",
        "Sign in and send the access token as 'Authorization: Bearer <token>'.",
    ),
    403: ("forbidden", "Forbidden", "Only admins may manage users."),
    404: ("not-found", "Not found", "No customer with id C-0042."),
    406: ("not-acceptable", "Not acceptable", "This endpoint answers text/event-stream only."),
    409: ("conflict", "Conflict", "A customer with id C-0001 already exists."),
    412: (
        "precondition-failed",
        "Precondition failed",
        "The customer has changed since you read it; read it again and retry.",
    ),
    413: ("content-too-large", "Content too large", "The photo is larger than 10485760 bytes."),
    415: ("unsupported-media-type", "Unsupported media type", "The photo must be a JPEG, PNG or WebP image."),
    422: ("validation-failed", "Validation failed", "The request has invalid values."),
    429: ("too-many-requests", "Too many requests", "Too many failed sign-ins; try again later."),
    503: ("service-unavailable", "Service unavailable", "The database is not answering; try again shortly."),
}


QUOTA_EXCEEDED: dict[str, Any] = {
    "type": "/problems/quota-exceeded",
    "title": "Too many requests",
    "status": 429,
    "detail": "Too many requests for this caller's quota; wait Retry-After seconds and try again.",
    "request_id": "4f1c9a2e7b3d4e8f9a0b1c2d3e4f5a6b",
    "violated-policies": ["burst"],
}


def problem(status: int) -> dict[str, Any]:
    slug, title, detail = _PROBLEM_DETAILS[status]
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": "4f1c9a2e7b3d4e8f9a0b1c2d3e4f5a6b",
    }
    if status == 422:
        body["errors"] = [{"field": "email", "message": "must be a valid e-mail address"}]
    return body
