"""Photo URLs signed by the service: only exactly what we signed, only until it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.photos.signing import UrlSigner
from application.customers.photo_rules import JPEG, PNG
from application.ports.system import Clock

SECRET = b"a-test-secret-of-enough-length!!"
KEY = "photos/0123456789abcdef0123456789abcdef"
T0 = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


class FixedClock(Clock):
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def signer(clock: FixedClock) -> UrlSigner:
    return UrlSigner(SECRET, timedelta(minutes=15), clock)


def test_a_fresh_signature_is_valid(signer: UrlSigner) -> None:
    signed = signer.sign(KEY, JPEG)

    assert signed.expires == int((T0 + timedelta(minutes=15)).timestamp())
    assert signer.verify(KEY, JPEG, str(signed.expires), signed.signature)
    assert signer.seconds_left(signed.expires) == 15 * 60


def test_the_query_string_carries_expiry_type_and_signature(signer: UrlSigner) -> None:
    signed = signer.sign(KEY, JPEG)
    query = parse_qs(urlsplit("https://crm.test/photos/x?" + signed.encode()).query)

    assert query == {"expires": [str(signed.expires)], "type": [JPEG], "signature": [signed.signature]}
    assert "=" not in signed.signature
    assert "+" not in signed.signature
    assert "/" not in signed.signature


def test_a_tampered_key_is_refused(signer: UrlSigner) -> None:
    signed = signer.sign(KEY, JPEG)

    assert not signer.verify(KEY + "-thumb", JPEG, signed.expires, signed.signature)
    assert not signer.verify("photos/ffffffffffffffffffffffffffffffff", JPEG, signed.expires, signed.signature)


def test_a_tampered_type_is_refused(signer: UrlSigner) -> None:
    signed = signer.sign(KEY, PNG)

    assert not signer.verify(KEY, JPEG, signed.expires, signed.signature)
    assert not signer.verify(KEY, "text/html", signed.expires, signed.signature)


def test_a_tampered_expiry_is_refused(signer: UrlSigner) -> None:
    signed = signer.sign(KEY, JPEG)

    assert not signer.verify(KEY, JPEG, signed.expires + 3600, signed.signature)


def test_an_expired_signature_is_refused(signer: UrlSigner, clock: FixedClock) -> None:
    signed = signer.sign(KEY, JPEG)

    clock.at = T0 + timedelta(minutes=15)
    assert not signer.verify(KEY, JPEG, signed.expires, signed.signature)
    assert signer.seconds_left(signed.expires) == 0
    clock.at = T0 + timedelta(minutes=14, seconds=59)
    assert signer.verify(KEY, JPEG, signed.expires, signed.signature)


def test_a_signature_made_with_another_secret_is_refused(signer: UrlSigner, clock: FixedClock) -> None:
    other = UrlSigner(b"another-secret-of-enough-length!", timedelta(minutes=15), clock)
    forged = other.sign(KEY, JPEG)

    assert not signer.verify(KEY, JPEG, forged.expires, forged.signature)


@pytest.mark.parametrize(
    ("expires", "signature"),
    [
        ("", "x"),
        ("not-a-number", "x"),
        ("-5", "x"),
        ("1" * 40, "x"),
        ("１２３", "x"),  # full-width digits  # noqa: RUF001
        (None, ""),
        (None, "é"),
        (None, "A" * 43),
    ],
)
def test_malformed_parameters_are_refused_without_error(signer: UrlSigner, expires: str | None, signature: str) -> None:
    good = signer.sign(KEY, JPEG)

    assert not signer.verify(KEY, JPEG, good.expires if expires is None else expires, signature)


def test_a_weak_secret_is_refused(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        UrlSigner(b"short", timedelta(minutes=15), clock)
