"""What every response carries, and how malformed requests are answered."""

from __future__ import annotations

import httpx

from tests.service.api.helpers import SignedIn, assert_problem


def test_security_headers_and_request_id_on_every_response(client: httpx.Client, clerk: SignedIn) -> None:
    for response in (
        client.get("/health"),
        client.get("/nowhere"),
        client.get("/api/v1/customers"),
        clerk.get("/api/v1/customers"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert len(response.headers["x-request-id"]) >= 16
    assert clerk.get("/api/v1/customers").headers["cache-control"] == "no-store"


def test_a_sane_request_id_is_echoed_and_an_insane_one_replaced(client: httpx.Client) -> None:
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    replaced = client.get("/health", headers={"X-Request-ID": "bad id\twith<script>"}).headers["x-request-id"]
    assert replaced != "bad id\twith<script>"
    assert replaced.isalnum()


def test_unknown_routes_and_methods_are_problems(client: httpx.Client, clerk: SignedIn) -> None:
    assert_problem(client.get("/nowhere"), 404)
    assert_problem(clerk.put("/api/v1/customers", json={}), 405)


def test_malformed_json_is_400_and_wrong_content_type_is_415(clerk: SignedIn) -> None:
    bad = clerk.post("/api/v1/customers", content=b'{"id": "x",', headers={"Content-Type": "application/json"})
    assert_problem(bad, 400)
    empty = clerk.post("/api/v1/customers", content=b"", headers={"Content-Type": "application/json"})
    assert_problem(empty, 400)
    text = clerk.post("/api/v1/customers", content=b'{"id":"x"}', headers={"Content-Type": "text/plain"})
    assert_problem(text, 415)
    nested = clerk.post(
        "/api/v1/customers", content=b"[" * 100_000 + b"]" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert_problem(nested, 400)
    assert clerk.get("/api/v1/customers").json()["items"] == []


def test_bodies_over_the_limit_are_413(clerk: SignedIn) -> None:
    huge = b'{"id": "x", "name": "' + b"a" * (2 * 1024 * 1024) + b'", "surname": "y"}'
    response = clerk.post("/api/v1/customers", content=huge, headers={"Content-Type": "application/json"})
    assert_problem(response, 413)


def test_health_endpoints(client: httpx.Client) -> None:
    for path in ("/health", "/health/live"):
        assert client.get(path).json()["status"] == "ok"
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def test_openapi_document_describes_the_contract(client: httpx.Client) -> None:
    document = client.get("/docs/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/auth/revoke",
        "/api/v1/users",
        "/api/v1/users/me",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
    ):
        assert path in paths, path
    scheme = document["components"]["securitySchemes"]["BearerAuth"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    customers = paths["/api/v1/customers"]["get"]
    # Customers take a signed-in user's token or an API key; users take only the former.
    assert customers["security"] == [{"BearerAuth": []}, {"ApiKey": []}]
    assert paths["/api/v1/users"]["get"]["security"] == [{"BearerAuth": []}]
    assert document["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert {"400", "401", "422"} <= set(customers["responses"])
    assert {parameter["name"] for parameter in customers["parameters"]} >= {"limit", "cursor", "q", "sort"}


def test_cors_allows_exactly_the_configured_origins(client: httpx.Client) -> None:
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    allowed = client.options("/api/v1/customers", headers={"Origin": "https://crm.example.com", **preflight})
    assert allowed.headers.get("access-control-allow-origin") == "https://crm.example.com"
    denied = client.options("/api/v1/customers", headers={"Origin": "https://evil.example", **preflight})
    assert denied.headers.get("access-control-allow-origin") is None


def test_options_lists_every_method_of_the_resource(clerk: SignedIn) -> None:
    assert clerk.client.options("/api/v1/customers/C-1").headers["allow"] == "DELETE, GET, OPTIONS, PATCH"
    assert clerk.client.options("/api/v1/users").headers["allow"] == "GET, OPTIONS, POST"
    response = clerk.put("/api/v1/users/me", json={})
    assert_problem(response, 405)
    assert "GET" in response.headers["allow"]
