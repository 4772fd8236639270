"""The fair-use part of the OpenAPI document: the RateLimit headers on every counted answer, the 429 of every
operation, Retry-After on 429 and 503, and the policies a refusal names (docs/api.md, "Rate limits and quotas")."""

from __future__ import annotations

from collections.abc import Mapping

from litestar.openapi.spec import (
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from adapters.http.openapi import examples


def header(description: str, schema: Schema, example: str | int, *, required: bool = True) -> OpenAPIHeader:
    return OpenAPIHeader(schema=schema, description=description, required=required, example=example)


_RATE_LIMIT_HEADERS = {
    "RateLimit-Policy": header(
        "The caller's fair-use policies (draft-ietf-httpapi-ratelimit-headers-11): q requests per w seconds; API keys"
        " have a daily policy too. Absent when the service runs without a limit.",
        Schema(type=OpenAPIType.STRING),
        '"burst";q=100;w=10, "daily";q=250000;w=86400',
        required=False,
    ),
    "RateLimit": header(
        "Where the caller stands under each policy: r requests left, t seconds until the quota is whole again.",
        Schema(type=OpenAPIType.STRING),
        '"burst";r=57;t=4',
        required=False,
    ),
}
_RETRY_AFTER = header(
    "Seconds to wait before trying again.", Schema(type=OpenAPIType.INTEGER, minimum=1), 2, required=False
)


def name_violated_policies(schemas: Mapping[str, Schema | Reference]) -> None:
    problem = schemas.get("Problem")
    if isinstance(problem, Schema) and isinstance(
        policies := (problem.properties or {}).get("violated-policies"), Schema
    ):
        # Litestar leaves an optional list's items out; a generated client should see strings it can compare.
        policies.items = Schema(type=OpenAPIType.STRING, enum=["burst", "daily", "concurrency"])


def add_fair_use_headers(operation: Operation) -> None:
    # Every answer under /api/v1 is counted, errors included; 429 and 503 say when to try again.
    operation.responses = operation.responses or {}
    if "429" not in operation.responses:
        # An operation that documents no problems of its own (e.g. listSignInProviders) is counted all the same.
        operation.responses["429"] = _quota_exceeded()
    for status, response in operation.responses.items():
        if isinstance(response, OpenAPIResponse):
            retry = {"Retry-After": _RETRY_AFTER} if status in {"429", "503"} else {}
            response.headers = {**(response.headers or {}), **_RATE_LIMIT_HEADERS, **retry}


def _quota_exceeded() -> OpenAPIResponse:
    example = Example(summary="Over the burst quota", value=examples.QUOTA_EXCEEDED)
    media = OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"), examples={"quota-exceeded": example})
    return OpenAPIResponse(
        description="Over a fair-use quota; nothing was done. Wait Retry-After seconds.",
        content={"application/problem+json": media},
    )
