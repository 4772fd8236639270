"""JSON bodies are decoded strictly: a value of the wrong JSON type is refused with 422 naming the field, never
coerced. The boolean fields are found in the live document, so a new one is covered without touching this test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.service.api.helpers import SignedIn, assert_problem

NOT_BOOLEANS: list[object] = [0, 1, "true", None]


def _boolean_fields(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(method, path, operation, field) for every boolean member of every JSON request body."""
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if media is None:
                continue
            schema = schemas[media["schema"]["$ref"].rsplit("/", 1)[1]]
            for field, member in schema.get("properties", {}).items():
                if member.get("type") == "boolean":
                    yield method, path, operation, field


def _request(operation: dict[str, Any], path: str) -> tuple[str, dict[str, str]]:
    """The path with syntactically valid parameters, and the required headers: the body is refused before any
    lookup, so the resources need not exist."""
    headers: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        value = "C-0001" if parameter["name"] == "customer_id" else str(uuid.uuid4())
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", value)
        elif parameter["in"] == "header" and parameter.get("required"):
            headers[parameter["name"]] = "*"
    return path, headers


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/docs/openapi.json").json()
    return body


def test_every_boolean_of_every_body_takes_only_true_or_false(document: dict[str, Any], admin: SignedIn) -> None:
    fields = list(_boolean_fields(document))
    assert {(path, field) for _, path, _, field in fields} >= {
        ("/api/v1/users", "is_admin"),
        ("/api/v1/users/{user_id}", "is_admin"),
        ("/api/v1/webhooks/{webhook_id}", "active"),
    }
    schemas = document["components"]["schemas"]
    for method, path, operation, field in fields:
        url, headers = _request(operation, path)
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        example = (schemas[reference.rsplit("/", 1)[1]].get("examples") or [{}])[0]
        for value in NOT_BOOLEANS:
            response = admin.client.request(
                method, url, json={**example, field: value}, headers={**admin.headers, **headers}
            )
            problem = assert_problem(response, 422, field)
            (error,) = [error for error in problem["errors"] if error["field"] == field]
            assert "bool" in error["message"], (method, path, field, value, error)


def test_strict_bodies_still_take_what_json_can_say(admin: SignedIn) -> None:
    # A time is a string in JSON: strict decoding takes it, with its zone.
    created = admin.post(
        "/api/v1/api-keys",
        json={"name": "Nightly Sync", "scopes": ["customers:read"], "expires_at": "2099-01-01T00:00:00+00:00"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["expires_at"].startswith("2099-01-01T00:00:00")
    user = admin.post(
        "/api/v1/users",
        json={"email": "carol@example.com", "name": "Carol Clerk", "password": "Enigma broken at Bletchley"},
    )
    assert user.status_code == 201, user.text
    changed = admin.patch(f"/api/v1/users/{user.json()['id']}", json={"is_admin": True})
    assert changed.status_code == 200, changed.text
    assert changed.json()["is_admin"] is True


def test_without_a_token_the_answer_is_401_before_the_body_is_judged(base_url: str) -> None:
    response = httpx.patch(f"{base_url}/api/v1/webhooks/{uuid.uuid4()}", json={"active": 0})
    assert_problem(response, 401)


@pytest.mark.parametrize("value", ["1", "0", "null", "True", "yes"])
def test_a_boolean_in_the_query_is_true_or_false(admin: SignedIn, value: str) -> None:
    problem = assert_problem(admin.get("/api/v1/users", params={"is_admin": value}), 400)
    assert "is_admin" in problem["detail"]
    assert admin.get("/api/v1/users", params={"is_admin": "false"}).status_code == 200
