"""ID tokens of third-party OpenID Connect providers, checked against a real provider on 127.0.0.1.

Real tokens come from the provider's authorization-code flow. Forged ones are made here with keys we generate;
some of those keys are *published* by the provider (through the proxy in conftest.py, as in a key rotation), so
that one claim or header at a time can be shown to matter: the same token without the flaw is accepted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from adapters.security.oidc import (
    COLD_RETRY_INTERVAL,
    EXPIRED_TOKEN,
    INVALID_TOKEN,
    UNKNOWN_ISSUER,
    UNREACHABLE,
    UNVERIFIED_EMAIL,
    OidcIdentityProviders,
    OidcProviderConfig,
    parse_oidc_providers,
)
from application.ports.identity_providers import SignInProvider, VerifiedIdentity
from domain.errors import InvalidGrant
from tests.adapters.security.conftest import CLIENT_ID, RunningProvider, running_provider
from tests.support.clock import ManualClock

# The provider's authlib warns about its own deprecated APIs while it issues tokens: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib")

LEEWAY = timedelta(seconds=60)
REFRESH_INTERVAL = timedelta(seconds=60)
PUBLIC_MESSAGES = {INVALID_TOKEN, EXPIRED_TOKEN, UNKNOWN_ISSUER, UNVERIFIED_EMAIL, UNREACHABLE}

# --- helpers ---------------------------------------------------------------------------------------------------


def verifier(
    *configs: OidcProviderConfig, clock: ManualClock | None = None, http_timeout: float = 5.0
) -> OidcIdentityProviders:
    return OidcIdentityProviders(
        configs,
        http_timeout=http_timeout,
        min_refresh_interval=REFRESH_INTERVAL,
        leeway=LEEWAY,
        clock=clock or ManualClock(datetime.now(UTC)),
    )


def config_for(provider: RunningProvider, client_id: str = CLIENT_ID) -> OidcProviderConfig:
    return OidcProviderConfig("Mock", provider.issuer, client_id)


async def refused(providers: OidcIdentityProviders, token: str, message: str | None = None) -> str:
    """Assert that the token is refused with one of the safe public messages (``message`` if given)."""
    with pytest.raises(InvalidGrant) as caught:
        await providers.verify(token)
    detail = caught.value.detail
    assert detail in PUBLIC_MESSAGES
    if message is not None:
        assert detail == message
    return detail


def unverified_claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def instant(value: object) -> datetime:
    assert isinstance(value, int)
    return datetime.fromtimestamp(value, UTC)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_json(value: object) -> str:
    return b64(json.dumps(value).encode())


@dataclass
class ForgingKey:
    """A key of our own: its private part signs test tokens; its public JWK may be published by the provider."""

    kid: str
    algorithm: str = "RS256"
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            document = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            document = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**document, "kid": self.kid, "use": "sig"}

    def sign(self, claims: dict[str, Any], *, kid: str | None = None, **headers: Any) -> str:
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers={"kid": kid or self.kid, **headers})

    def sign_exactly(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """RS256 over exactly this header, which pyjwt's ``encode`` would tidy up."""
        assert isinstance(self.private, rsa.RSAPrivateKey)
        signing_input = f"{b64_json({'kid': self.kid, **header})}.{b64_json(claims)}"
        signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input.encode(), self.private)
        return f"{signing_input}.{b64(signature)}"


def claims_for(issuer: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": CLIENT_ID,
        "sub": "alice",
        "iat": now,
        "exp": now + 300,
        "email": "alice@example.com",
        "email_verified": True,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


@pytest.fixture(scope="module")
def rsa_key() -> ForgingKey:
    return ForgingKey("published-rsa")


@pytest.fixture(scope="module")
def foreign_key() -> ForgingKey:
    return ForgingKey("foreign")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


# --- real tokens from the provider -----------------------------------------------------------------------------


async def test_a_valid_id_token_gives_the_verified_identity(provider: RunningProvider) -> None:
    token = await provider.id_token(sub="alice-123")
    assert "kid" not in jwt.get_unverified_header(token)  # the mock signs without a key id, with its only key

    identity = await verifier(config_for(provider)).verify(token)

    assert identity == VerifiedIdentity(issuer=provider.issuer, subject="alice-123", email="alice@example.com")


async def test_email_verified_sent_as_the_string_true_is_accepted(provider: RunningProvider) -> None:
    token = await provider.id_token(claims={"email": "alice@example.com", "email_verified": "true"})

    identity = await verifier(config_for(provider)).verify(token)

    assert identity.email == "alice@example.com"


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "alice@example.com", "email_verified": False},
        {"email": "alice@example.com"},
        {"email": "alice@example.com", "email_verified": "false"},
        {"email": "alice@example.com", "email_verified": 1},
        {"email_verified": True},
        {"email": "", "email_verified": True},
    ],
    ids=["false", "missing", "string-false", "number-1", "no-email", "empty-email"],
)
async def test_an_unverified_or_missing_email_is_refused(provider: RunningProvider, claims: dict[str, object]) -> None:
    token = await provider.id_token(claims=claims)

    await refused(verifier(config_for(provider)), token, UNVERIFIED_EMAIL)


async def test_a_token_for_another_client_is_refused(provider: RunningProvider) -> None:
    token = await provider.id_token(client_id="someone-elses-app")

    await refused(verifier(config_for(provider)), token, INVALID_TOKEN)
    # The same provider's token for our client id passes.
    assert await verifier(config_for(provider)).verify(await provider.id_token())


async def test_a_token_checked_against_another_client_id_is_refused(provider: RunningProvider) -> None:
    token = await provider.id_token()

    await refused(verifier(config_for(provider, client_id="crm-mobile")), token, INVALID_TOKEN)


async def test_a_token_from_an_issuer_that_is_not_configured_is_refused(provider: RunningProvider) -> None:
    # The same server, named differently, is a different issuer (the mock derives its issuer from the Host header).
    other_name = provider.issuer.replace("127.0.0.1", "localhost")
    token = await provider.id_token()

    await refused(verifier(OidcProviderConfig("Other", other_name, CLIENT_ID)), token, UNKNOWN_ISSUER)
    assert provider.discovery_fetches == 0  # an unknown issuer never leads to a request


async def test_a_provider_signing_tokens_in_another_providers_name_is_refused(
    provider: RunningProvider, other_provider: RunningProvider
) -> None:
    # The other provider, a real one with its own key, issues a token that claims to come from the first.
    token = await other_provider.id_token(host=provider.netloc)
    assert unverified_claims(token)["iss"] == provider.issuer

    providers = verifier(config_for(provider), OidcProviderConfig("Other", other_provider.issuer, CLIENT_ID))

    await refused(providers, token, INVALID_TOKEN)
    assert await providers.verify(await other_provider.id_token())  # under its own name, it signs in fine


async def test_an_expired_token_is_refused_after_the_leeway(provider: RunningProvider) -> None:
    token = await provider.id_token()
    expires = instant(unverified_claims(token)["exp"])

    just_within = verifier(config_for(provider), clock=ManualClock(expires + LEEWAY - timedelta(seconds=1)))
    assert await just_within.verify(token)
    expired = verifier(config_for(provider), clock=ManualClock(expires + LEEWAY))
    await refused(expired, token, EXPIRED_TOKEN)


async def test_a_token_issued_in_the_future_is_refused_beyond_the_leeway(provider: RunningProvider) -> None:
    token = await provider.id_token()
    issued = instant(unverified_claims(token)["iat"])

    within = verifier(config_for(provider), clock=ManualClock(issued - LEEWAY + timedelta(seconds=1)))
    assert await within.verify(token)
    too_early = verifier(config_for(provider), clock=ManualClock(issued - LEEWAY - timedelta(seconds=1)))
    await refused(too_early, token, EXPIRED_TOKEN)


async def test_a_discovery_document_naming_another_issuer_is_not_trusted(provider: RunningProvider) -> None:
    token = await provider.id_token()
    provider.change_discovery(issuer="https://evil.example")

    await refused(verifier(config_for(provider)), token, UNREACHABLE)
    assert provider.discovery_fetches == 1
    assert provider.key_fetches == 0


async def test_a_token_without_key_id_is_refused_when_the_provider_publishes_several_keys(
    provider: RunningProvider, rsa_key: ForgingKey
) -> None:
    token = await provider.id_token()
    assert await verifier(config_for(provider)).verify(token)

    provider.publish(rsa_key.jwk())

    await refused(verifier(config_for(provider)), token, INVALID_TOKEN)


# --- forged tokens -----------------------------------------------------------------------------------------------


async def test_alg_none_is_refused_without_asking_the_provider(provider: RunningProvider) -> None:
    kid = (await provider.jwks())["keys"][0]["kid"]
    token = f"{b64_json({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64_json(claims_for(provider.issuer))}."

    await refused(verifier(config_for(provider)), token, INVALID_TOKEN)
    assert provider.discovery_fetches == 0


@pytest.mark.parametrize("pem_format", [PublicFormat.SubjectPublicKeyInfo, PublicFormat.PKCS1])
async def test_hs256_signed_with_the_providers_public_key_is_refused(
    provider: RunningProvider, pem_format: PublicFormat
) -> None:
    published = (await provider.jwks())["keys"][0]
    pem = jwt.PyJWK.from_dict(published).key.public_bytes(Encoding.PEM, pem_format)
    header = {"alg": "HS256", "typ": "JWT", "kid": published["kid"]}
    signing_input = f"{b64_json(header)}.{b64_json(claims_for(provider.issuer))}"
    token = f"{signing_input}.{b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())}"
    # Even a provider that (wrongly) advertises HS256 does not get it past the allow-list.
    provider.change_discovery(id_token_signing_alg_values_supported=["RS256", "HS256"])
    providers = verifier(config_for(provider))

    await refused(providers, token, INVALID_TOKEN)
    assert await providers.verify(await provider.id_token())


async def test_a_token_signed_by_a_key_that_is_not_the_providers_is_refused(
    provider: RunningProvider, foreign_key: ForgingKey
) -> None:
    provider_kid = (await provider.jwks())["keys"][0]["kid"]
    token = foreign_key.sign(claims_for(provider.issuer), kid=provider_kid)

    await refused(verifier(config_for(provider)), token, INVALID_TOKEN)


async def test_a_crit_header_is_refused(provider: RunningProvider, rsa_key: ForgingKey) -> None:
    provider.publish(rsa_key.jwk())
    providers = verifier(config_for(provider))
    claims = claims_for(provider.issuer)
    assert await providers.verify(rsa_key.sign(claims))

    assert await providers.verify(rsa_key.sign_exactly({"alg": "RS256", "typ": "JWT"}, claims))

    await refused(providers, rsa_key.sign(claims, crit=["exp"]), INVALID_TOKEN)
    # pyjwt itself understands the b64 extension (RFC 7797) and would accept this one; we refuse every crit.
    crit_b64 = rsa_key.sign_exactly({"alg": "RS256", "crit": ["b64"], "b64": True}, claims)
    await refused(providers, crit_b64, INVALID_TOKEN)


def _several_audiences(claims: dict[str, Any]) -> dict[str, Any]:
    return {**claims, "aud": [CLIENT_ID, "another-app"]}


@pytest.mark.parametrize(
    ("change", "headers", "message"),
    [
        (lambda c: c, {}, None),
        (lambda c: {**c, "aud": [CLIENT_ID]}, {}, None),
        (lambda c: {**_several_audiences(c), "azp": CLIENT_ID}, {}, None),
        (lambda c: {**c, "email_verified": "true"}, {}, None),
        (lambda c: {**c, "nbf": c["iat"] - 30}, {}, None),
        (lambda c: {**c, "nbf": c["iat"] + 3600}, {}, EXPIRED_TOKEN),
        (lambda c: {**c, "exp": c["iat"] - 3600}, {}, EXPIRED_TOKEN),
        (_several_audiences, {}, INVALID_TOKEN),
        (lambda c: {**_several_audiences(c), "azp": "another-app"}, {}, INVALID_TOKEN),
        (lambda c: {**c, "aud": "another-app"}, {}, INVALID_TOKEN),
        (lambda c: {k: v for k, v in c.items() if k != "sub"}, {}, INVALID_TOKEN),
        (lambda c: {**c, "sub": ""}, {}, INVALID_TOKEN),
        (lambda c: {k: v for k, v in c.items() if k != "iat"}, {}, INVALID_TOKEN),
        (lambda c: {k: v for k, v in c.items() if k != "exp"}, {}, INVALID_TOKEN),
        (lambda c: {k: v for k, v in c.items() if k != "aud"}, {}, INVALID_TOKEN),
        (lambda c: {**c, "exp": "tomorrow"}, {}, INVALID_TOKEN),
        (lambda c: {**c, "exp": 10**20}, {}, INVALID_TOKEN),
        (lambda c: c, {"typ": "at+jwt"}, INVALID_TOKEN),
    ],
    ids=[
        "control",
        "aud-list",
        "several-aud-with-azp",
        "verified-string",
        "nbf-past",
        "nbf-future",
        "expired",
        "several-aud-no-azp",
        "several-aud-other-azp",
        "other-aud",
        "no-sub",
        "empty-sub",
        "no-iat",
        "no-exp",
        "no-aud",
        "exp-not-number",
        "exp-huge",
        "access-token-typ",
    ],
)
async def test_each_claim_rule_on_a_token_signed_with_a_published_key(
    provider: RunningProvider,
    rsa_key: ForgingKey,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    headers: dict[str, Any],
    message: str | None,
) -> None:
    provider.publish(rsa_key.jwk())
    token = rsa_key.sign(change(claims_for(provider.issuer)), **headers)
    providers = verifier(config_for(provider))

    if message is None:
        assert await providers.verify(token) == VerifiedIdentity(provider.issuer, "alice", "alice@example.com")
    else:
        await refused(providers, token, message)


async def test_only_algorithms_the_provider_advertises_are_accepted(provider: RunningProvider) -> None:
    ec_key = ForgingKey("published-ec", "ES256", ec.generate_private_key(ec.SECP256R1()))
    provider.publish(ec_key.jwk())
    token = ec_key.sign(claims_for(provider.issuer))

    await refused(verifier(config_for(provider)), token, INVALID_TOKEN)  # the provider advertises RS256 only

    provider.change_discovery(id_token_signing_alg_values_supported=["RS256", "ES256"])
    assert await verifier(config_for(provider)).verify(token)


async def test_a_token_whose_algorithm_does_not_fit_its_key_is_refused(
    provider: RunningProvider, rsa_key: ForgingKey
) -> None:
    provider.publish({**rsa_key.jwk(), "alg": "RS256"})
    provider.change_discovery(id_token_signing_alg_values_supported=["RS256", "PS256", "ES256"])
    providers = verifier(config_for(provider))
    claims = claims_for(provider.issuer)

    ps256 = jwt.encode(claims, rsa_key.private, algorithm="PS256", headers={"kid": rsa_key.kid})
    await refused(providers, ps256, INVALID_TOKEN)  # the key is published for RS256 only
    assert await providers.verify(rsa_key.sign(claims))
    es256 = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": rsa_key.kid})
    await refused(providers, es256, INVALID_TOKEN)  # an EC signature against an RSA key


async def test_a_key_published_without_alg_verifies_any_advertised_algorithm_of_its_type(
    provider: RunningProvider,
) -> None:
    pss_key = ForgingKey("pss", "PS256")
    provider.publish(pss_key.jwk())
    provider.change_discovery(id_token_signing_alg_values_supported=["RS256", "PS256"])

    identity = await verifier(config_for(provider)).verify(pss_key.sign(claims_for(provider.issuer)))

    assert identity.subject == "alice"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # signing with it is the point
async def test_a_short_rsa_key_is_refused(provider: RunningProvider) -> None:
    weak = ForgingKey("weak", private=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    provider.publish(weak.jwk())

    await refused(verifier(config_for(provider)), weak.sign(claims_for(provider.issuer)), INVALID_TOKEN)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        "..",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.e30.",
        f"{b64_json(['not', 'an', 'object'])}.{b64_json({})}.c2ln",
        f"{b64_json({'alg': 'RS256'})}.{b64_json([1, 2])}.c2ln",
        f"{b64_json({'alg': 'RS256'})}.{b64_json({'iss': 5})}.c2ln",
        f"{b64_json({'alg': 'RS256', 'kid': 7})}.{b64_json({'iss': 'x'})}.c2ln",
        f"{b64_json({'alg': 'RS256'})}.bm90IGpzb24.c2ln",
        "é.ü.ß",
        "x" * 1_000_000,
    ],
    ids=[
        "empty",
        "word",
        "abc",
        "dots",
        "many-dots",
        "empty-payload",
        "header-list",
        "payload-list",
        "iss-number",
        "kid-number",
        "payload-not-json",
        "non-ascii",
        "one-megabyte",
    ],
)
async def test_garbage_is_refused_without_asking_the_provider(provider: RunningProvider, token: str) -> None:
    started = time.perf_counter()

    await refused(verifier(config_for(provider)), token)

    assert time.perf_counter() - started < 1
    assert sum(provider.proxy.hits.values()) == 0


# --- keys: caching, refresh, rotation ----------------------------------------------------------------------------


async def test_keys_are_fetched_once_and_cached(provider: RunningProvider) -> None:
    providers = verifier(config_for(provider))
    token = await provider.id_token()

    for _ in range(3):
        assert await providers.verify(token)

    assert (provider.discovery_fetches, provider.key_fetches) == (1, 1)


async def test_concurrent_first_requests_share_one_fetch(provider: RunningProvider) -> None:
    providers = verifier(config_for(provider))
    token = await provider.id_token()

    identities = await asyncio.gather(*(providers.verify(token) for _ in range(10)))

    assert {identity.subject for identity in identities} == {"alice"}
    assert (provider.discovery_fetches, provider.key_fetches) == (1, 1)


async def test_an_unknown_kid_triggers_one_refresh_rate_limited_per_provider(
    provider: RunningProvider, foreign_key: ForgingKey, clock: ManualClock
) -> None:
    providers = verifier(config_for(provider), clock=clock)
    assert await providers.verify(await provider.id_token())
    assert provider.key_fetches == 1
    # Keys fetched less than an interval ago count as current: an unknown kid then is refused without a fetch.
    await refused(providers, foreign_key.sign(claims_for(provider.issuer), kid="made-up-0"), INVALID_TOKEN)
    assert provider.key_fetches == 1

    clock.advance(REFRESH_INTERVAL)
    await refused(providers, foreign_key.sign(claims_for(provider.issuer), kid="made-up-1"), INVALID_TOKEN)
    assert provider.key_fetches == 2  # one refresh, then refused

    clock.advance(REFRESH_INTERVAL - timedelta(seconds=1))
    await refused(providers, foreign_key.sign(claims_for(provider.issuer), kid="made-up-2"), INVALID_TOKEN)
    await refused(providers, foreign_key.sign(claims_for(provider.issuer), kid="made-up-3"), INVALID_TOKEN)
    assert provider.key_fetches == 2  # within the interval: no new fetch

    clock.advance(timedelta(seconds=1))
    await refused(providers, foreign_key.sign(claims_for(provider.issuer), kid="made-up-4"), INVALID_TOKEN)
    assert provider.key_fetches == 3


async def test_a_burst_of_unknown_kids_makes_at_most_one_fetch(
    provider: RunningProvider, foreign_key: ForgingKey, clock: ManualClock
) -> None:
    providers = verifier(config_for(provider), clock=clock)
    assert await providers.verify(await provider.id_token())
    clock.advance(REFRESH_INTERVAL)
    forged = [foreign_key.sign(claims_for(provider.issuer), kid=f"made-up-{n}") for n in range(20)]

    outcomes = await asyncio.gather(*(providers.verify(token) for token in forged), return_exceptions=True)

    assert all(isinstance(outcome, InvalidGrant) for outcome in outcomes)
    assert provider.key_fetches == 2


async def test_a_key_published_in_a_rotation_is_picked_up_by_one_refresh(
    provider: RunningProvider, rsa_key: ForgingKey, clock: ManualClock
) -> None:
    providers = verifier(config_for(provider), clock=clock)
    assert await providers.verify(await provider.id_token())

    provider.publish(rsa_key.jwk())
    clock.advance(REFRESH_INTERVAL)
    identity = await providers.verify(rsa_key.sign(claims_for(provider.issuer, sub="bob")))

    assert identity.subject == "bob"
    assert provider.key_fetches == 2


async def test_keys_are_fetched_again_once_an_hour(
    provider: RunningProvider, rsa_key: ForgingKey, clock: ManualClock
) -> None:
    provider.publish(rsa_key.jwk())
    providers = verifier(config_for(provider), clock=clock)
    token = rsa_key.sign(claims_for(provider.issuer, exp=int(time.time()) + 3 * 3600))
    assert await providers.verify(token)

    clock.advance(timedelta(minutes=59))
    assert await providers.verify(token)
    assert provider.key_fetches == 1

    clock.advance(timedelta(minutes=1))
    assert await providers.verify(token)
    assert provider.key_fetches == 2


# --- an unreachable provider ---------------------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


async def test_a_provider_that_is_down_is_reported_quickly(closed_port: int, foreign_key: ForgingKey) -> None:
    issuer = f"http://127.0.0.1:{closed_port}"
    providers = verifier(OidcProviderConfig("Down", issuer, CLIENT_ID))
    started = time.perf_counter()

    await refused(providers, foreign_key.sign(claims_for(issuer)), UNREACHABLE)

    assert time.perf_counter() - started < 2


async def test_a_provider_that_does_not_answer_times_out(silent_port: int, foreign_key: ForgingKey) -> None:
    issuer = f"http://127.0.0.1:{silent_port}"
    providers = verifier(OidcProviderConfig("Silent", issuer, CLIENT_ID), http_timeout=0.3)
    started = time.perf_counter()

    await refused(providers, foreign_key.sign(claims_for(issuer)), UNREACHABLE)

    assert time.perf_counter() - started < 2


async def test_a_provider_that_failed_is_retried_after_a_pause_not_at_every_request(
    provider: RunningProvider, clock: ManualClock
) -> None:
    token = await provider.id_token()
    provider.change_discovery(issuer="https://evil.example")  # a broken provider, until fixed below
    providers = verifier(config_for(provider), clock=clock)

    for _ in range(3):
        await refused(providers, token, UNREACHABLE)
    assert provider.discovery_fetches == 1

    clock.advance(COLD_RETRY_INTERVAL)
    await refused(providers, token, UNREACHABLE)
    assert provider.discovery_fetches == 2

    provider.proxy.discovery_changes.clear()
    clock.advance(COLD_RETRY_INTERVAL)
    assert await providers.verify(token)
    assert provider.discovery_fetches == 3


async def test_cached_keys_keep_working_while_the_provider_is_down(foreign_key: ForgingKey, clock: ManualClock) -> None:
    with running_provider() as temporary:
        providers = verifier(config_for(temporary), clock=clock)
        token = await temporary.id_token()
        assert await providers.verify(token)
    # The provider is gone. A refresh for an unknown kid fails; the token is refused as any unknown kid is.
    clock.advance(REFRESH_INTERVAL)
    await refused(providers, foreign_key.sign(claims_for(temporary.issuer), kid="made-up"), INVALID_TOKEN)
    assert await providers.verify(token)
    # Keys past their age cannot be refreshed either; the cached ones go on verifying.
    clock.advance(timedelta(hours=1) - REFRESH_INTERVAL)
    assert await providers.verify(token)


# --- configuration ---------------------------------------------------------------------------------------------------


async def test_listed_gives_every_provider_in_order(provider: RunningProvider) -> None:
    configs = [
        OidcProviderConfig("Google", "https://accounts.google.com", "123.apps.googleusercontent.com"),
        OidcProviderConfig("Mock", provider.issuer, CLIENT_ID),
    ]

    assert verifier(*configs).listed() == [
        SignInProvider("Google", "https://accounts.google.com", "123.apps.googleusercontent.com"),
        SignInProvider("Mock", provider.issuer, CLIENT_ID),
    ]


def test_duplicate_names_or_issuers_are_refused_by_the_constructor() -> None:
    google = OidcProviderConfig("Google", "https://accounts.google.com", "a")
    with pytest.raises(ValueError, match="name 'Google'"):
        verifier(google, OidcProviderConfig("Google", "https://login.example", "b"))
    with pytest.raises(ValueError, match=re.escape("issuer 'https://accounts.google.com'")):
        verifier(google, OidcProviderConfig("Other", "https://accounts.google.com", "b"))


def test_parse_reads_a_list_of_providers() -> None:
    raw = json.dumps(
        [
            {"name": "Google", "issuer": "https://accounts.google.com", "client_id": "123.apps.googleusercontent.com"},
            {"name": "Entra", "issuer": "https://login.microsoftonline.com/tenant/v2.0", "client_id": "abc"},
            {"name": "Local", "issuer": "http://127.0.0.1:9400", "client_id": "crm"},
            {"name": "Dev", "issuer": "http://localhost:9400/realms/crm/", "client_id": "crm"},
        ]
    )

    assert parse_oidc_providers(raw) == [
        OidcProviderConfig("Google", "https://accounts.google.com", "123.apps.googleusercontent.com"),
        OidcProviderConfig("Entra", "https://login.microsoftonline.com/tenant/v2.0", "abc"),
        OidcProviderConfig("Local", "http://127.0.0.1:9400", "crm"),
        OidcProviderConfig("Dev", "http://localhost:9400/realms/crm/", "crm"),
    ]


@pytest.mark.parametrize("raw", ["", "   ", "\n"])
def test_parse_of_nothing_is_no_providers(raw: str) -> None:
    assert parse_oidc_providers(raw) == []


def test_parse_of_an_empty_list_is_no_providers() -> None:
    assert parse_oidc_providers("[]") == []


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"name": "Google"}', "must be a JSON list"),
        ('"https://accounts.google.com"', "must be a JSON list"),
        ('["https://accounts.google.com"]', r"CRM_OIDC_PROVIDERS\[0\] must be an object"),
        ('[{"name": "G", "issuer": "https://a.example"}]', r"\[0\] lacks 'client_id'"),
        ('[{"name": "G", "issuer": "https://a.example", "client_id": "c", "secret": "s"}]', "unknown keys: 'secret'"),
        ('[{"name": "", "issuer": "https://a.example", "client_id": "c"}]', r"\[0\]: name must be a non-empty"),
        ('[{"name": "G", "issuer": "https://a.example", "client_id": 5}]', "client_id must be a non-empty string"),
        ('[{"name": " G", "issuer": "https://a.example", "client_id": "c"}]', "surrounding spaces"),
        ('[{"name": "G", "issuer": "http://a.example", "client_id": "c"}]', "must be an https:// URL"),
        ('[{"name": "G", "issuer": "http://10.0.0.1", "client_id": "c"}]', "must be an https:// URL"),
        ('[{"name": "G", "issuer": "ftp://a.example", "client_id": "c"}]', "must be an https:// URL"),
        ('[{"name": "G", "issuer": "accounts.google.com", "client_id": "c"}]', "must be an https:// URL"),
        ('[{"name": "G", "issuer": "https://", "client_id": "c"}]', "must name a host"),
        ('[{"name": "G", "issuer": "https://u:p@a.example", "client_id": "c"}]', "no user name or password"),
        ('[{"name": "G", "issuer": "https://a.example?x=1", "client_id": "c"}]', "no query or fragment"),
        ('[{"name": "G", "issuer": "https://a.example#x", "client_id": "c"}]', "no query or fragment"),
        (
            '[{"name": "G", "issuer": "https://a.example", "client_id": "c"},'
            ' {"name": "G", "issuer": "https://b.example", "client_id": "c"}]',
            "two providers have the name 'G'",
        ),
        (
            '[{"name": "A", "issuer": "https://a.example", "client_id": "c"},'
            ' {"name": "B", "issuer": "https://a.example", "client_id": "d"}]',
            "two providers have the issuer 'https://a.example'",
        ),
        (
            '[{"name": "A", "issuer": "https://a.example", "client_id": "c"},'
            ' {"name": "B", "issuer": "http://b.example", "client_id": "d"}]',
            r"CRM_OIDC_PROVIDERS\[1\]: issuer must be an https:// URL",
        ),
    ],
)
def test_parse_explains_what_is_wrong(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_oidc_providers(raw)
