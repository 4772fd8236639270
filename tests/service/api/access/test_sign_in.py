"""The OAuth 2.0 token endpoint, refresh rotation, revocation, and access token checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import jwt

from tests.service.api.conftest import Accounts
from tests.service.api.helpers import PASSWORD, TOKEN_URL, SignedIn, assert_problem, password_grant, sign_in


def refresh(client: httpx.Client, token: str) -> httpx.Response:
    return client.post(TOKEN_URL, data={"grant_type": "refresh_token", "refresh_token": token})


async def test_password_grant_gives_a_bearer_token_pair(accounts: Accounts, client: httpx.Client) -> None:
    user = await accounts.user()
    response = password_grant(client, user.email.upper())  # e-mails compare case-insensitively
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 3600
    assert body["access_token"] and body["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["email"] == user.email


async def test_wrong_password_unknown_and_deleted_users_get_the_same_answer(
    accounts: Accounts, client: httpx.Client, admin: SignedIn
) -> None:
    user = await accounts.user()
    gone = await accounts.user()
    assert admin.delete(f"/api/v1/users/{gone.id}").status_code == 204
    answers = [
        password_grant(client, user.email, "wrong password, long enough"),
        password_grant(client, "nobody@example.com"),
        password_grant(client, gone.email),
        password_grant(client, "not an e-mail"),
        password_grant(client, user.email, "x" * 5000),
    ]
    for answer in answers:
        assert answer.status_code == 400
        assert answer.json() == {"error": "invalid_grant", "error_description": "The e-mail or password is wrong."}


def test_token_endpoint_answers_oauth_errors(client: httpx.Client) -> None:
    missing = client.post(TOKEN_URL, data={"grant_type": "password", "username": "a@example.com"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"
    unsupported = client.post(TOKEN_URL, data={"grant_type": "client_credentials"})
    assert unsupported.json()["error"] == "unsupported_grant_type"
    no_grant = client.post(TOKEN_URL, data={"username": "a@example.com"})
    assert no_grant.json()["error"] == "invalid_request"
    as_json = client.post(TOKEN_URL, json={"grant_type": "password", "username": "a@example.com", "password": "x"})
    assert as_json.status_code == 400
    assert as_json.json()["error"] in {"invalid_request", "invalid_grant"}


async def test_refresh_tokens_rotate_and_reuse_ends_the_session(accounts: Accounts, client: httpx.Client) -> None:
    user = await accounts.user()
    first = sign_in(client, user.email)
    rotated = refresh(client, first.refresh_token)
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first.refresh_token
    # The old refresh token is presented again: someone stole one of the two, so the session ends.
    reused = refresh(client, first.refresh_token)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert refresh(client, second["refresh_token"]).status_code == 400
    ended = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert_problem(ended, 401)


async def test_revocation_ends_the_session_and_always_answers_200(accounts: Accounts, client: httpx.Client) -> None:
    user = await accounts.user()
    session = sign_in(client, user.email)
    other = sign_in(client, user.email)
    revoked = client.post("/api/v1/auth/revoke", data={"token": session.refresh_token})
    assert revoked.status_code == 200
    assert revoked.content == b""
    assert client.post("/api/v1/auth/revoke", data={"token": "never-issued"}).status_code == 200
    assert refresh(client, session.refresh_token).json()["error"] == "invalid_grant"
    assert_problem(session.get("/api/v1/users/me"), 401)
    assert other.get("/api/v1/users/me").status_code == 200


def _forge(payload: dict[str, object], kid: str, key: str = "wrong-key-" + "y" * 40, **headers: object) -> str:
    return jwt.encode(payload, key, algorithm="HS256", headers={"typ": "at+jwt", "kid": kid, **headers})


async def test_bad_access_tokens_get_401_with_a_bearer_challenge(clerk: SignedIn, client: httpx.Client) -> None:
    claims = jwt.decode(clerk.access_token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(clerk.access_token)["kid"]
    header, payload, _ = clerk.access_token.split(".")
    none_header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "at+jwt", "kid": kid}).encode())
    now = datetime.now(UTC)
    secret = "test-secret-" + "x" * 40
    bad_tokens = [
        _forge(claims, kid),  # signed with another key
        none_header.decode().rstrip("=") + "." + payload + ".",  # alg: none
        header + "." + payload + "." + "A" * 43,  # tampered signature
        _forge({**claims, "exp": now - timedelta(minutes=5), "iat": now - timedelta(hours=1)}, kid, secret),  # expired
        _forge({**claims, "nbf": now + timedelta(hours=1)}, kid, secret),  # not yet valid
        _forge({**claims, "aud": "someone-else"}, kid, secret),  # wrong audience
        _forge({**claims, "iss": "https://evil.example"}, kid, secret),  # wrong issuer
        _forge(claims, "unknown", secret),  # unknown key id
        _forge(claims, kid, secret, typ="JWT"),  # not an access token
        _forge(claims, kid, secret, crit=["exp"]),  # critical header we do not understand
        clerk.refresh_token,  # a refresh token is never an access token
        "not-a-jwt",
    ]
    for token in bad_tokens:
        response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        body = assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith("Bearer"), token
        assert "invalid_token" in response.headers["www-authenticate"]
        assert body["type"] == "/problems/not-authenticated"
    # A correctly signed token of ours is accepted: the checks above fail for their own reason.
    assert (
        client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {_forge(claims, kid, secret)}"}).status_code
        == 200
    )


def test_missing_or_malformed_authorization_gets_401(client: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = client.get("/api/v1/customers", headers=headers)
        assert_problem(response, 401)
        assert response.headers["www-authenticate"].startswith('Bearer realm="crm"')


def test_providers_are_public(client: httpx.Client) -> None:
    response = client.get("/api/v1/auth/providers")
    assert response.status_code == 200
    assert response.json() == []


async def test_a_session_cannot_outlive_its_user(accounts: Accounts, client: httpx.Client, admin: SignedIn) -> None:
    user = await accounts.user()
    session = sign_in(client, user.email)
    assert admin.delete(f"/api/v1/users/{user.id}").status_code == 204
    assert_problem(session.get("/api/v1/users/me"), 401)
    assert refresh(client, session.refresh_token).json()["error"] == "invalid_grant"
    assert password_grant(client, user.email, PASSWORD).status_code == 400


async def test_each_sign_in_gets_its_own_session(accounts: Accounts, client: httpx.Client) -> None:
    user = await accounts.user()
    first, second = sign_in(client, user.email), sign_in(client, user.email)
    assert first.refresh_token != second.refresh_token
    first_claims = jwt.decode(first.access_token, options={"verify_signature": False})
    second_claims = jwt.decode(second.access_token, options={"verify_signature": False})
    assert first_claims["sid"] != second_claims["sid"]
