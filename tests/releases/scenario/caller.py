"""A client of the API as a frontend holds one: an HTTP connection to one server and a bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PROBLEM = "application/problem+json"


@dataclass(frozen=True, slots=True)
class Credentials:
    email: str
    password: str


@dataclass(frozen=True, slots=True)
class Caller:
    http: httpx.Client
    token: str

    def on(self, http: httpx.Client) -> Caller:
        """The same token sent to another server (a rolling update sends a client's next request anywhere)."""
        return Caller(http, self.token)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def answer(response: httpx.Response, status: int) -> Any:
    """The response's JSON body, after checking its status (the message names the server and the body)."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 problem with ``status``."""
    body: dict[str, Any] = answer(response, status)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    assert body["status"] == status, body
    return body


def ids(page: Any) -> list[str]:
    return [item["id"] for item in page["items"]]
