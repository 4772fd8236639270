"""Version 1: signing in (OAuth 2.0 password and refresh grants) and the admins' users endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.releases.scenario.caller import Caller, Credentials, answer, ids, problem

TOKEN_URL = "/api/v1/auth/token"
USER_FIELDS = {"id", "email", "name", "is_admin", "created_at", "updated_at", "version"}
PASSWORD = "a rolling update keeps serving 7"


@dataclass(frozen=True, slots=True)
class Person:
    """A user of the scenario: how they sign in, and how customers name them."""

    credentials: Credentials
    id: str
    name: str

    @property
    def reference(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def sign_in(http: httpx.Client, credentials: Credentials) -> Caller:
    response = http.post(
        TOKEN_URL, data={"grant_type": "password", "username": credentials.email, "password": credentials.password}
    )
    tokens = answer(response, 200)
    assert tokens["token_type"] == "Bearer", tokens
    assert tokens["expires_in"] > 0, tokens
    assert response.headers["cache-control"] == "no-store", response.headers
    return Caller(http, tokens["access_token"])


def refreshed_on(issuer: httpx.Client, http: httpx.Client, credentials: Credentials) -> Caller:
    """Signed in on ``issuer``, the refresh token rotated on ``http``'s server: a caller there with the new pair."""
    password = {"grant_type": "password", "username": credentials.email, "password": credentials.password}
    first = answer(issuer.post(TOKEN_URL, data=password), 200)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = answer(http.post(TOKEN_URL, data=refresh), 200)
    assert second["refresh_token"] != first["refresh_token"], "refresh tokens rotate"
    return Caller(http, second["access_token"])


def me(caller: Caller) -> dict[str, Any]:
    body: dict[str, Any] = answer(caller.get("/api/v1/users/me"), 200)
    assert set(body) == USER_FIELDS, body
    return body


def users(writer: Caller, reader: Caller, tag: str) -> Person:
    """An admin on ``writer`` registers a clerk whom ``reader`` lists, finds, renames; returns the clerk."""
    email = f"bob.{tag}@example.com"
    response = writer.post("/api/v1/users", json={"email": email, "name": "Bob Clerk", "password": PASSWORD})
    created = answer(response, 201)
    assert set(created) == USER_FIELDS, "no password or hash in the answer"
    assert created["email"] == email, created
    assert (created["name"], created["is_admin"], created["version"]) == ("Bob Clerk", False, 1), created
    assert response.headers["location"].endswith(f"/api/v1/users/{created['id']}"), response.headers
    user_url = f"/api/v1/users/{created['id']}"

    assert answer(reader.get(user_url), 200) == created
    assert ids(answer(reader.get("/api/v1/users", params={"q": tag}), 200)) == [created["id"]]
    assert ids(answer(reader.get("/api/v1/users", params={"q": tag, "is_admin": "true"}), 200)) == []
    problem(reader.post("/api/v1/users", json={"email": email.upper(), "name": "Bob Again"}), 409)

    renamed = answer(reader.patch(user_url, json={"name": "Bob Counter"}), 200)
    assert (renamed["name"], renamed["version"]) == ("Bob Counter", 2), renamed
    assert answer(writer.get(user_url), 200) == renamed
    return Person(Credentials(email, PASSWORD), created["id"], "Bob Counter")


def user_leaves(writer: Caller, reader: Caller, clerk: Person, clerk_on_reader: Caller) -> None:
    """The admin on ``writer`` deletes the clerk: on ``reader`` they can no longer sign in or use their token."""
    user_url = f"/api/v1/users/{clerk.id}"
    assert writer.delete(user_url).status_code == 204
    problem(reader.get(user_url), 404)
    refused = reader.http.post(
        TOKEN_URL,
        data={"grant_type": "password", "username": clerk.credentials.email, "password": clerk.credentials.password},
    )
    assert answer(refused, 400)["error"] == "invalid_grant"
    assert clerk_on_reader.get("/api/v1/users/me").status_code == 401
