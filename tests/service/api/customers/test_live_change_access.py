"""A live change stream lasts only as long as its caller's access: it ends at the token's expiry, and soon after
sign-out, deletion of the user or of the API key; streams of others go on."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import httpx
import jwt

from adapters.security.access_tokens import JwtAccessTokens
from adapters.system.clock import SystemClock
from application.ports.security import AccessClaims
from crm.settings import Settings
from crm.signing_keys import signing_keys
from tests.service.api.access.test_api_keys import as_key, make_key
from tests.service.api.conftest import Accounts
from tests.service.api.event_streams import EventStream, open_stream
from tests.service.api.helpers import SignedIn, assert_problem

CUSTOMERS = "/api/v1/customers"
# The contract says within 1 s; the bound here is generous for a loaded test machine.
ENDS_WITHIN = 5.0


def _ended_for_access(stream: EventStream) -> None:
    assert stream.wait_for_end(ENDS_WITHIN), "the stream is still open"
    assert stream.comments[-1] == "access ended", stream.comments


def _still_open(stream: EventStream, writer: SignedIn, customer_id: str) -> None:
    assert writer.post(CUSTOMERS, json={"id": customer_id, "name": "Ada", "surname": "Lovelace"}).status_code == 201
    assert stream.next().body["data"]["id"] == customer_id


async def test_sign_out_ends_the_sessions_streams_only(accounts: Accounts, base_url: str, client: httpx.Client) -> None:
    leaving = await accounts.signed_in(name="Leaving Clerk")
    staying = await accounts.signed_in(name="Staying Clerk")
    with open_stream(base_url, leaving.access_token) as left, open_stream(base_url, staying.access_token) as stays:
        assert client.post("/api/v1/auth/revoke", data={"token": leaving.refresh_token}).status_code == 200
        _ended_for_access(left)
        _still_open(stays, staying, "C-1")
    assert_problem(leaving.get("/api/v1/customers/changes"), 401)


async def test_deleting_the_user_ends_their_streams(accounts: Accounts, admin: SignedIn, base_url: str) -> None:
    clerk = await accounts.signed_in(name="Deleted Clerk")
    with open_stream(base_url, clerk.access_token) as stream, open_stream(base_url, admin.access_token) as admins:
        assert admin.delete(f"/api/v1/users/{clerk.user_id}").status_code == 204
        _ended_for_access(stream)
        _still_open(admins, admin, "C-1")


def test_deleting_an_api_key_ends_its_streams(admin: SignedIn, base_url: str, client: httpx.Client) -> None:
    made = make_key(admin, ["customers:read"], name="Dashboard")
    script = as_key(client, made)
    with open_stream(base_url, script.access_token) as stream:
        _still_open(stream, admin, "C-1")
        assert admin.delete(f"/api/v1/api-keys/{made['id']}").status_code == 204
        _ended_for_access(stream)


def test_the_stream_ends_when_the_access_token_expires(clerk: SignedIn, settings: Settings, base_url: str) -> None:
    claims = jwt.decode(clerk.access_token, options={"verify_signature": False})
    short_lived = JwtAccessTokens(
        signing_keys(settings), settings.token_issuer, settings.token_audience, timedelta(seconds=2), SystemClock()
    )
    token = short_lived.issue(AccessClaims(UUID(claims["sub"]), UUID(claims["sid"])), SystemClock().now()).token

    with open_stream(base_url, token) as stream:
        assert stream.status == 200
        _ended_for_access(stream)
    with open_stream(base_url, token) as again:
        assert again.status == 401
