"""Small helpers for API tests: signing in, and reading problem details."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery staple 42"
TOKEN_URL = "/api/v1/auth/token"


@dataclass
class SignedIn:
    """A signed-in user as the frontend would hold them."""

    client: httpx.Client
    access_token: str
    refresh_token: str
    user_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.patch(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.put(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(url, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


def password_grant(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post(TOKEN_URL, data={"grant_type": "password", "username": email, "password": password})


def sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> SignedIn:
    response = password_grant(client, email, password)
    assert response.status_code == 200, response.text
    body = response.json()
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    return SignedIn(client, body["access_token"], body["refresh_token"], me.json()["id"])


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The response is problem+json with ``status`` (and names ``field`` when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"].startswith("/problems/")
    assert body["request_id"] == response.headers["x-request-id"]
    if field is not None:
        assert field in {error["field"] for error in body["errors"]}, body
    return body
