"""The live OpenAPI document is valid OpenAPI 3.1, and every example in it is valid against its own schema:
what validators, linters and API gateways that import the document check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

Located = tuple[str, dict[str, Any], Any]


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/docs/openapi.json").json()
    return body


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises OpenAPIValidationError with the path of the first problem


def _media_examples(where: str, media: dict[str, Any]) -> Iterator[Located]:
    schema = media.get("schema")
    if schema is None:
        return
    for key, example in (media.get("examples") or {}).items():
        assert set(example) <= {"summary", "description", "value", "externalValue"}, (where, key, example)
        if "value" in example:
            yield f"{where} examples.{key}", schema, example["value"]
    if "example" in media:
        yield f"{where} example", schema, media["example"]


def _examples(document: dict[str, Any]) -> Iterator[Located]:
    """Every example with the schema it illustrates, named by where it is."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                for value in schema.get("examples", []):
                    yield f"{name} parameter {parameter['name']}", schema, value
            for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                yield from _media_examples(f"{name} requestBody {media_type}", media)
            for status, response in operation["responses"].items():
                for media_type, media in response.get("content", {}).items():
                    yield from _media_examples(f"{name} {status} {media_type}", media)
                for header, spec in response.get("headers", {}).items():
                    if "example" in spec:
                        yield f"{name} {status} header {header}", spec["schema"], spec["example"]
    for schema_name, schema in document["components"]["schemas"].items():
        for value in schema.get("examples", []):
            yield f"components.schemas.{schema_name}", schema, value


def test_every_example_is_valid_against_its_schema(document: dict[str, Any]) -> None:
    checked, wrong = 0, []
    for where, schema, value in _examples(document):
        # The document is the root resource, so "#/components/schemas/…" resolves inside it.
        validator = Draft202012Validator({**schema, "components": document["components"]})
        wrong += [f"{where}: {error.message}" for error in validator.iter_errors(value)]
        checked += 1
    assert not wrong, "\n".join(wrong)
    assert checked > 80  # every operation's errors, bodies and answers, not a handful


def test_the_csv_import_documents_both_ways_to_send_the_file(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/customers/import"]["post"]["requestBody"]
    assert body["required"] is True
    content = body["content"]
    assert set(content) == {"text/csv", "multipart/form-data"}
    form = content["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert form["properties"]["file"]["format"] == "binary"
    assert content["text/csv"]["schema"]["format"] == "binary"
