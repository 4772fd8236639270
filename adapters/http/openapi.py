"""OpenAPI: the error responses each operation can give, and the Bearer / OAuth 2.0 security scheme."""

from __future__ import annotations

from collections.abc import Iterable

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, OpenAPI, SecurityScheme

from adapters.http.schemas import OAuthError, Problem

_DESCRIPTIONS = {
    304: "Not modified: the ETag in If-None-Match is current.",
    400: "Malformed request (bad parameter, cursor or body).",
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


def responses(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem+json response documentation for the given statuses (plus 429/503, possible anywhere)."""
    result: dict[int, ResponseSpec] = {}
    for status in sorted({*statuses, 503}):
        if status == 304:
            result[status] = ResponseSpec(data_container=None, description=_DESCRIPTIONS[status])
        else:
            result[status] = ResponseSpec(
                data_container=Problem, description=_DESCRIPTIONS[status], media_type="application/problem+json"
            )
    return result


def oauth_error_responses() -> dict[int, ResponseSpec]:
    return {
        400: ResponseSpec(data_container=OAuthError, description="RFC 6749 §5.2 error, e.g. invalid_grant."),
        429: ResponseSpec(
            data_container=Problem, description=_DESCRIPTIONS[429], media_type="application/problem+json"
        ),
    }


def security_components(token_url: str) -> Components:
    return Components(
        security_schemes={
            "BearerAuth": SecurityScheme(
                type="oauth2",
                description="OAuth 2.0 password grant at the token endpoint; send the access token as a Bearer token.",
                flows=OAuthFlows(password=OAuthFlow(token_url=token_url, scopes={})),
            )
        }
    )


def refuse_unknown_fields(document: OpenAPI, strict_bodies: Iterable[str]) -> None:
    """Say in the document what the decoder does: request bodies refuse fields they do not declare."""
    schemas = document.components.schemas or {}
    for name in strict_bodies:
        if (schema := schemas.get(name)) is not None:
            schema.additional_properties = False
