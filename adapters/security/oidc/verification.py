"""Sign-in with third-party OpenID Connect providers: checking the ID tokens they issue (the claim checks).

The frontend signs the user in at a provider (Google, Entra ID, Keycloak, …) and hands us the provider's ID
token through the token-exchange grant (RFC 8693, see docs/decisions/0007). Here we check that token: the
provider is picked by the token's ``iss`` among the configured ones only (we never fetch anything a token
names), its discovery document and JWKS are fetched from the configured issuer and cached, and the token must
be signed by one of the published keys with an asymmetric algorithm that the provider advertises, for our
client id, within its validity period, with a verified e-mail.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt import PyJWK

from adapters.security.oidc.config import OidcProviderConfig, check_unique
from adapters.security.oidc.key_sets import (
    ALLOWED_ALGORITHMS,
    KeysUnavailable,
    ProviderKeys,
    ProviderKeySets,
    PublishedKey,
)
from application.ports.identity_providers import IdentityProviders, SignInProvider, VerifiedIdentity
from application.ports.system import Clock
from domain.errors import InvalidGrant

logger = logging.getLogger(__name__)

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# Real ID tokens are a few kilobytes; anything far larger is refused before it is parsed.
MAX_TOKEN_LENGTH = 16 * 1024

# What callers are told. None of these repeats anything from the token.
INVALID_TOKEN = "The ID token is not valid."
EXPIRED_TOKEN = "The ID token has expired or is not valid yet."
UNKNOWN_ISSUER = "The ID token does not come from a configured sign-in provider."
UNVERIFIED_EMAIL = "The sign-in provider has not confirmed that the e-mail address is verified."
UNREACHABLE = "The sign-in provider could not be reached."


class _Rejected(Exception):
    """Why a token was refused: ``reason`` is for the log (never token contents), ``public`` for the caller."""

    def __init__(self, reason: str, public: str = INVALID_TOKEN) -> None:
        super().__init__(reason)
        self.reason = reason
        self.public = public


class OidcIdentityProviders(IdentityProviders):
    """The configured OpenID Connect providers; their keys come from ``ProviderKeySets`` (see there for caching)."""

    def __init__(
        self,
        providers: Sequence[OidcProviderConfig],
        *,
        http_timeout: float = 5.0,
        min_refresh_interval: timedelta = timedelta(seconds=60),
        leeway: timedelta = timedelta(seconds=60),
        keys_max_age: timedelta = timedelta(hours=1),
        clock: Clock,
    ) -> None:
        check_unique(providers)
        self._providers = list(providers)
        self._key_sets = ProviderKeySets(
            providers,
            http_timeout=http_timeout,
            min_refresh_interval=min_refresh_interval,
            keys_max_age=keys_max_age,
            clock=clock,
        )
        self._leeway = leeway
        self._clock = clock

    def listed(self) -> list[SignInProvider]:
        return [SignInProvider(p.name, p.issuer, p.client_id) for p in self._providers]

    async def verify(self, id_token: str) -> VerifiedIdentity:
        try:
            return await self._verify(id_token)
        except _Rejected as rejection:
            logger.info("Refused an ID token: %s.", rejection.reason)
            raise InvalidGrant(rejection.public) from None

    async def _verify(self, id_token: str) -> VerifiedIdentity:
        if not isinstance(id_token, str) or not id_token or len(id_token) > MAX_TOKEN_LENGTH:
            raise _Rejected("empty or oversized token")
        try:
            header = jwt.get_unverified_header(id_token)
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError, UnicodeError):
            raise _Rejected("not a well-formed JWS") from None

        # Everything that can be refused without the network is refused first.
        if "crit" in header:
            raise _Rejected("a critical header extension")
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS:
            raise _Rejected("an algorithm outside the allow-list")
        kid = header.get("kid")
        if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > 256):
            raise _Rejected("a malformed key id")
        token_type = header.get("typ")
        if token_type is not None and (
            not isinstance(token_type, str) or token_type.lower() not in {"jwt", "application/jwt"}
        ):
            raise _Rejected("a token type other than JWT")
        config = self._key_sets.provider(unverified.get("iss"))
        if config is None:
            raise _Rejected("an issuer that is not configured", UNKNOWN_ISSUER)

        try:
            provider_keys = await self._key_sets.keys(config.issuer, kid)
        except KeysUnavailable as error:
            raise _Rejected(str(error), UNREACHABLE) from None
        if algorithm not in provider_keys.algorithms:
            raise _Rejected(f"an algorithm that {config.name} does not advertise")
        key = _for_algorithm(_pick_key(provider_keys, kid), algorithm)
        try:
            claims = jwt.decode(
                id_token,
                key,
                algorithms=[algorithm],
                audience=config.client_id,
                issuer=config.issuer,
                # Times are checked below against the injected clock, with our leeway.
                options={
                    "require": REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt.InvalidAudienceError:
            raise _Rejected("another audience") from None
        except jwt.InvalidIssuerError:
            raise _Rejected("another issuer") from None
        except jwt.InvalidSignatureError:
            raise _Rejected("a signature that does not verify") from None
        except (jwt.PyJWTError, ValueError, TypeError):
            raise _Rejected("a token that fails JWT validation") from None

        self._check_times(claims)
        return _identity(claims, config)

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock.now()
        try:
            expires = _instant(claims["exp"])
            issued = _instant(claims["iat"])
            not_before = _instant(claims["nbf"]) if "nbf" in claims else issued
        except (TypeError, ValueError, OverflowError, OSError):
            raise _Rejected("a malformed time claim") from None
        if now >= expires + self._leeway:
            raise _Rejected("an expired token", EXPIRED_TOKEN)
        if now < issued - self._leeway or now < not_before - self._leeway:
            raise _Rejected("a token that is not valid yet", EXPIRED_TOKEN)


def _pick_key(provider_keys: ProviderKeys, kid: str | None) -> PublishedKey:
    if kid is None:
        # Without a key id the key is unambiguous only when the provider publishes exactly one.
        if len(provider_keys.keys) == 1:
            return provider_keys.keys[0]
        raise _Rejected("no key id while the provider publishes several keys")
    for key in provider_keys.keys:
        if key.kid == kid:
            return key
    raise _Rejected("a key id that the provider does not publish")


def _for_algorithm(key: PublishedKey, algorithm: str) -> PyJWK:
    published = key.jwk.get("alg")
    if published is not None and published != algorithm:
        raise _Rejected("the key is published for another algorithm")
    try:
        return PyJWK.from_dict(dict(key.jwk), algorithm=algorithm)
    except jwt.PyJWTError:
        raise _Rejected("the algorithm does not fit the key") from None


def _identity(claims: Mapping[str, Any], config: OidcProviderConfig) -> VerifiedIdentity:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise _Rejected("no subject")
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != config.client_id:
        # OpenID Connect Core 3.1.3.7: with several audiences, we must be the authorized party.
        raise _Rejected("several audiences and another authorized party")
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip():
        raise _Rejected("no e-mail address", UNVERIFIED_EMAIL)
    # Some providers send the boolean as a string. ``is``, because 1 == True.
    verified = claims.get("email_verified")
    if verified is not True and verified != "true":
        raise _Rejected("an unverified e-mail address", UNVERIFIED_EMAIL)
    return VerifiedIdentity(issuer=config.issuer, subject=subject, email=email)


def _instant(value: object) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError("a time claim must be a number")
    return datetime.fromtimestamp(value, UTC)
