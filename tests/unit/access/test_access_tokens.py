"""Access tokens: strict verification and key rotation."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
import pytest

from adapters.security.access_tokens import JwtAccessTokens, SigningKeys
from application.ports.security import AccessClaims
from domain.errors import NotAuthenticated
from tests.support.clock import ManualClock

OLD, NEW = b"o" * 40, b"n" * 40
CLAIMS = AccessClaims(user_id=uuid.uuid4(), session_id=uuid.uuid4())


def tokens(keys: SigningKeys, clock: ManualClock) -> JwtAccessTokens:
    return JwtAccessTokens(keys, issuer="crm", audience="crm-api", lifetime=timedelta(minutes=15), clock=clock)


def test_rotation_the_newest_key_signs_every_listed_key_verifies_a_retired_key_does_not() -> None:
    clock = ManualClock()
    before = tokens(SigningKeys({"old": OLD}, "old"), clock)
    old_token = before.issue(CLAIMS, clock.now()).token

    during = tokens(SigningKeys({"new": NEW, "old": OLD}, "new"), clock)
    new_token = during.issue(CLAIMS, clock.now()).token
    assert jwt.get_unverified_header(new_token)["kid"] == "new"
    assert during.verify(old_token) == CLAIMS
    assert during.verify(new_token) == CLAIMS

    after = tokens(SigningKeys({"new": NEW}, "new"), clock)
    assert after.verify(new_token) == CLAIMS
    with pytest.raises(NotAuthenticated):
        after.verify(old_token)


def test_tokens_expire_by_the_clock() -> None:
    clock = ManualClock()
    issuer = tokens(SigningKeys.single(NEW), clock)
    issued = issuer.issue(CLAIMS, clock.now())
    assert issued.expires_in == 900
    clock.advance(timedelta(minutes=14))
    assert issuer.verify(issued.token) == CLAIMS
    clock.advance(timedelta(minutes=2))
    with pytest.raises(NotAuthenticated):
        issuer.verify(issued.token)


def test_tokens_from_the_future_are_refused() -> None:
    clock = ManualClock()
    issuer = tokens(SigningKeys.single(NEW), clock)
    issued = issuer.issue(CLAIMS, clock.now() + timedelta(minutes=5))
    with pytest.raises(NotAuthenticated):
        issuer.verify(issued.token)


def test_a_remembered_token_still_expires_and_a_tampered_one_is_not_remembered() -> None:
    clock = ManualClock()
    issuer = tokens(SigningKeys.single(NEW), clock)
    token = issuer.issue(CLAIMS, clock.now()).token
    assert issuer.verify(token) == CLAIMS
    assert issuer.verify(token) == CLAIMS  # from memory
    head, payload, signature = token.split(".")
    with pytest.raises(NotAuthenticated):
        issuer.verify(f"{head}.{payload}.{signature[:-4]}AAAA")
    clock.advance(timedelta(minutes=16))
    with pytest.raises(NotAuthenticated):
        issuer.verify(token)
