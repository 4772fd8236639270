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


def walk_pages(user: SignedIn, url: str) -> list[dict[str, Any]]:
    """Follow ``Link: <…>; rel="next"`` from ``url`` to the last page; returns every page's body.

    Each page's ``next_cursor`` and ``Link`` header must agree, and the next link must keep the query of ``url``
    (its limit, sort or search) and add the cursor."""
    first_query = set(httpx.URL(url).params.multi_items())
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        response = user.get(next_url)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        pages.append(body)
        link = response.headers.get("link")
        if body["next_cursor"] is None:
            assert link is None
            next_url = None
        else:
            assert link is not None and link.endswith('>; rel="next"')
            next_url = link[1 : link.index(">")]
            target = httpx.URL(next_url)
            assert target.path == httpx.URL(url).path
            assert first_query <= set(target.params.multi_items())
            assert target.params["cursor"] == body["next_cursor"]
    return pages
