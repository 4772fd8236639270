"""The OpenAPI document as a frontend developer relies on it: names, errors, rules and examples."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from adapters.http.openapi.operations import OPERATION_IDS
from tests.service.api.helpers import SignedIn, assert_problem

JSON_ERRORS_OUTSIDE_PROBLEMS = {("signIn", "400"), ("signOut", "400")}  # RFC 6749 §5.2 errors


@pytest.fixture(scope="module")
def document(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/docs/openapi.json").json()
    return body


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def test_every_operation_has_a_readable_stable_id(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert set(operations) == set(OPERATION_IDS.values())
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", name) for name in operations), sorted(operations)
    path = document["paths"]["/api/v1/customers/{customer_id}/photo"]
    assert path["put"]["operationId"] == "uploadCustomerPhoto"
    assert document["paths"]["/api/v1/auth/token"]["post"]["operationId"] == "signIn"


def test_every_documented_error_is_problem_json_with_an_example(document: dict[str, Any]) -> None:
    for name, operation in _operations(document).items():
        for status, response in operation["responses"].items():
            if int(status) < 400 or (name, status) in JSON_ERRORS_OUTSIDE_PROBLEMS or name == "getReadiness":
                continue
            content = response.get("content", {})
            assert list(content) == ["application/problem+json"], (name, status, list(content))
            media = content["application/problem+json"]
            assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, (name, status)
            assert media["examples"], (name, status)
            for example in media["examples"].values():
                assert example["value"]["status"] == int(status), (name, status)


def test_the_photo_upload_documents_both_ways_to_send_the_image(document: dict[str, Any]) -> None:
    body = _operations(document)["uploadCustomerPhoto"]["requestBody"]
    assert body["required"] is True
    content = body["content"]
    assert set(content) == {"multipart/form-data", "image/jpeg", "image/png", "image/webp"}
    form = content["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert form["properties"]["file"]["format"] == "binary"
    assert content["image/png"]["schema"]["format"] == "binary"


def test_the_headers_a_client_reads_are_documented(document: dict[str, Any], clerk: SignedIn) -> None:
    operations = _operations(document)
    etag = operations["getCustomer"]["responses"]["200"]["headers"]["ETag"]
    assert etag["required"] is True
    created = clerk.post("/api/v1/customers", json={"id": "C-0001", "name": "Ada", "surname": "Lovelace"})
    assert re.search(etag["schema"]["pattern"], created.headers["ETag"])
    assert set(operations["createCustomer"]["responses"]["201"]["headers"]) == {
        "ETag",
        "Location",
        "RateLimit",
        "RateLimit-Policy",
    }
    assert "Link" in operations["listCustomers"]["responses"]["200"]["headers"]


def test_every_api_answer_documents_the_fair_use_headers_and_the_quota_problem(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if not path.startswith("/api/v1"):
                assert all("RateLimit" not in response.get("headers", {}) for response in responses.values()), path
                continue
            assert "429" in responses, (method, path)
            for status, response in responses.items():
                assert {"RateLimit", "RateLimit-Policy"} <= set(response["headers"]), (method, path, status)
            assert "Retry-After" in responses["429"]["headers"], (method, path)
    problem = document["components"]["schemas"]["Problem"]
    assert problem["properties"]["violated-policies"]["items"] == {
        "type": "string",
        "enum": ["burst", "daily", "concurrency"],
    }
    examples = _operations(document)["listCustomers"]["responses"]["429"]["content"]["application/problem+json"]
    assert any(example["value"]["type"].endswith("quota-exceeded") for example in examples["examples"].values())


def test_the_domain_rules_are_in_the_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    create = schemas["CustomerCreate"]
    assert create["required"] == ["id", "name", "surname"]
    assert create["additionalProperties"] is False
    identifier = create["properties"]["id"]
    assert (identifier["minLength"], identifier["maxLength"]) == (1, 64)
    assert re.search(identifier["pattern"], "C-0001") and not re.search(identifier["pattern"], "-C")
    name = create["properties"]["name"]["pattern"]
    assert re.search(name, "Zoë Ångström") and not re.search(name, "   ") and not re.search(name, "Ada\x00")
    email = create["properties"]["email"]["pattern"]
    assert re.search(email, "ada@example.com") and not re.search(email, "ada@example") and not re.search(email, "")
    phone = create["properties"]["phone"]["pattern"]
    assert re.search(phone, "+44 (20) 7946-0958 ext. 12") and not re.search(phone, "call me")
    assert schemas["UserCreate"]["properties"]["password"]["minLength"] == 12
    assert schemas["CustomerPatch"]["properties"]["name"]["type"] == "string"  # a name can't be cleared

    parameters = {
        parameter["name"]: parameter["schema"] for parameter in _operations(document)["updateCustomer"]["parameters"]
    }
    tags = parameters["If-Match"]["pattern"]
    assert re.search(tags, '"3.6610225118d00"') and re.search(tags, "*") and re.search(tags, 'W/"1.a", "2.b"')
    assert not re.search(tags, "") and not re.search(tags, "3.6610225118d00")
    listing = {
        parameter["name"]: parameter["schema"] for parameter in _operations(document)["listCustomers"]["parameters"]
    }
    assert "-created_at" in listing["sort"]["enum"] and len(listing["sort"]["enum"]) == 10
    assert "oneOf" not in listing["q"]  # a query parameter can't be null


def _example_strings(node: Any, inside_example: bool = False) -> list[str]:
    if isinstance(node, str):
        return [node] if inside_example else []
    if isinstance(node, list):
        return [text for item in node for text in _example_strings(item, inside_example)]
    if isinstance(node, dict):
        return [
            text
            for key, value in node.items()
            for text in _example_strings(value, inside_example or key in ("example", "examples"))
        ]
    return []


def test_examples_look_like_real_data(document: dict[str, Any]) -> None:
    customer = document["components"]["schemas"]["CustomerOut"]["examples"][0]
    assert customer["name"] == "Ada" and customer["email"].endswith("@example.com")
    strings = _example_strings(document)
    assert len(strings) > 50
    # Litestar's generated examples are runs of random letters, such as "EuTJmBVBFdzxuvECziwY".
    assert not [text for text in strings if re.fullmatch(r"[A-Za-z]{12,}", text)]


def test_a_malformed_entity_tag_is_refused(clerk: SignedIn) -> None:
    created = clerk.post("/api/v1/customers", json={"id": "C-0001", "name": "Ada", "surname": "Lovelace"})
    assert created.status_code == 201
    for header in ("", "3.abc", '"unterminated'):
        assert_problem(clerk.patch("/api/v1/customers/C-0001", json={}, headers={"If-Match": header}), 400)
        assert_problem(clerk.get("/api/v1/customers/C-0001", headers={"If-None-Match": header}), 400)
    assert clerk.get("/api/v1/customers/C-0001", headers={"If-None-Match": created.headers["ETag"]}).status_code == 304
