"""Sign-in with third-party OpenID Connect providers: checking the ID tokens they issue.

The frontend signs the user in at a provider (Google, Entra ID, Keycloak, …) and hands us the provider's ID
token through the token-exchange grant (RFC 8693, see docs/decisions/0007). Here we check that token: the
provider is picked by the token's ``iss`` among the configured ones only (we never fetch anything a token
names), its discovery document and JWKS are fetched from the configured issuer and cached, and the token must
be signed by one of the published keys with an asymmetric algorithm that the provider advertises, for our
client id, within its validity period, with a verified e-mail.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWK

from application.ports.identity_providers import IdentityProviders, SignInProvider, VerifiedIdentity
from application.ports.system import Clock
from domain.errors import InvalidGrant

logger = logging.getLogger(__name__)

# A fixed allow-list: asymmetric algorithms only, never ``none`` or HS* (whose "secret" would be the public key).
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# OpenID Connect Discovery 1.0: when a provider does not say, ID tokens are signed with RS256.
DEFAULT_ALGORITHMS = ("RS256",)
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]
# Real ID tokens are a few kilobytes; anything far larger is refused before it is parsed.
MAX_TOKEN_LENGTH = 16 * 1024
# Discovery documents and key sets are small; a provider (or whatever answers in its place) cannot make us read more.
MAX_DOCUMENT_BYTES = 512 * 1024
# With no keys nothing can be verified, so after a failed first load we try again sooner than the refresh interval.
COLD_RETRY_INTERVAL = timedelta(seconds=5)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
ENV_VAR = "CRM_OIDC_PROVIDERS"

# What callers are told. None of these repeats anything from the token.
INVALID_TOKEN = "The ID token is not valid."
EXPIRED_TOKEN = "The ID token has expired or is not valid yet."
UNKNOWN_ISSUER = "The ID token does not come from a configured sign-in provider."
UNVERIFIED_EMAIL = "The sign-in provider has not confirmed that the e-mail address is verified."
UNREACHABLE = "The sign-in provider could not be reached."


@dataclass(frozen=True, slots=True)
class OidcProviderConfig:
    """One provider users may sign in with: a display name, its issuer identifier and our client id there."""

    name: str
    issuer: str
    client_id: str

    def __post_init__(self) -> None:
        for field_name in ("name", "issuer", "client_id"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{field_name} must be a non-empty string")
            if value != value.strip() or any(ord(char) < 32 for char in value):
                raise ValueError(f"{field_name} must not contain surrounding spaces or control characters")
        if len(self.name) > 100:
            raise ValueError("name must be at most 100 characters long")
        _check_issuer(self.issuer)


def _check_issuer(issuer: str) -> None:
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if parts.scheme != "https" and not local:
        raise ValueError(f"issuer must be an https:// URL (http:// only for 127.0.0.1 or localhost), got {issuer!r}")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValueError(f"issuer must name a host and no user name or password, got {issuer!r}")
    if parts.query or parts.fragment or "?" in issuer or "#" in issuer:
        raise ValueError(f"issuer must have no query or fragment, got {issuer!r}")


def parse_oidc_providers(raw: str) -> list[OidcProviderConfig]:
    """Read ``CRM_OIDC_PROVIDERS``: a JSON list of ``{"name", "issuer", "client_id"}`` objects; empty means none."""
    if not raw.strip():
        return []
    try:
        items = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"{ENV_VAR} is not valid JSON: {error.msg} at position {error.pos}") from None
    if not isinstance(items, list):
        raise ValueError(f'{ENV_VAR} must be a JSON list of {{"name", "issuer", "client_id"}} objects')
    providers: list[OidcProviderConfig] = []
    for index, item in enumerate(items):
        where = f"{ENV_VAR}[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f'{where} must be an object with "name", "issuer" and "client_id"')
        missing = [key for key in ("name", "issuer", "client_id") if key not in item]
        if missing:
            raise ValueError(f"{where} lacks {', '.join(repr(key) for key in missing)}")
        unknown = sorted(str(key) for key in item if key not in {"name", "issuer", "client_id"})
        if unknown:
            raise ValueError(f"{where} has unknown keys: {', '.join(repr(key) for key in unknown)}")
        try:
            providers.append(OidcProviderConfig(item["name"], item["issuer"], item["client_id"]))
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    _check_unique(providers)
    return providers


def _check_unique(providers: Sequence[OidcProviderConfig]) -> None:
    for attribute in ("name", "issuer"):
        seen: set[str] = set()
        for provider in providers:
            value = getattr(provider, attribute)
            if value in seen:
                raise ValueError(f"{ENV_VAR}: two providers have the {attribute} {value!r}; each must be unique")
            seen.add(value)


@dataclass(frozen=True, slots=True)
class _PublishedKey:
    kid: str | None
    jwk: Mapping[str, Any]

    def for_algorithm(self, algorithm: str) -> PyJWK:
        published = self.jwk.get("alg")
        if published is not None and published != algorithm:
            raise _Rejected("the key is published for another algorithm")
        try:
            return PyJWK.from_dict(dict(self.jwk), algorithm=algorithm)
        except jwt.PyJWTError:
            raise _Rejected("the algorithm does not fit the key") from None


@dataclass(frozen=True, slots=True)
class _ProviderKeys:
    keys: tuple[_PublishedKey, ...]
    algorithms: frozenset[str]
    fetched_at: datetime

    def has(self, kid: str) -> bool:
        return any(key.kid == kid for key in self.keys)


@dataclass(slots=True)
class _ProviderState:
    config: OidcProviderConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    keys: _ProviderKeys | None = None
    last_attempt: datetime | None = None


class _Rejected(Exception):
    """Why a token was refused: ``reason`` is for the log (never token contents), ``public`` for the caller."""

    def __init__(self, reason: str, public: str = INVALID_TOKEN) -> None:
        super().__init__(reason)
        self.reason = reason
        self.public = public


class _FetchFailed(Exception):
    pass


class OidcIdentityProviders(IdentityProviders):
    """The configured OpenID Connect providers, with each one's discovery document and keys cached.

    Keys are fetched on first use and again after ``keys_max_age``; a ``kid`` missing from the cache triggers one
    refresh. Fetches of one provider never happen more than once per ``min_refresh_interval`` (so tokens with made-up
    key ids cannot make us hammer the provider), concurrent requests share one fetch, and when a refresh fails the
    keys already cached keep working.
    """

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
        _check_unique(providers)
        if http_timeout <= 0:
            raise ValueError("http_timeout must be positive")
        self._providers = list(providers)
        self._states = {provider.issuer: _ProviderState(provider) for provider in providers}
        self._http_timeout = http_timeout
        self._min_refresh_interval = min_refresh_interval
        self._leeway = leeway
        self._keys_max_age = keys_max_age
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
        issuer = unverified.get("iss")
        state = self._states.get(issuer) if isinstance(issuer, str) else None
        if state is None:
            raise _Rejected("an issuer that is not configured", UNKNOWN_ISSUER)
        config = state.config

        provider_keys = await self._keys(state, kid)
        if algorithm not in provider_keys.algorithms:
            raise _Rejected(f"an algorithm that {config.name} does not advertise")
        key = _pick_key(provider_keys, kid).for_algorithm(algorithm)
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

    async def _keys(self, state: _ProviderState, kid: str | None) -> _ProviderKeys:
        current = state.keys
        if current is not None and self._usable(current, kid):
            return current
        async with state.lock:
            # Another request may have refreshed the keys while this one waited.
            current = state.keys
            if current is not None and self._usable(current, kid):
                return current
            now = self._clock.now()
            if not self._may_fetch(state, now):
                if current is None:
                    raise _Rejected(f"{state.config.name} was unreachable moments ago", UNREACHABLE)
                return current
            state.last_attempt = now
            try:
                state.keys = await self._fetch(state.config, now)
            except _FetchFailed as error:
                logger.warning("Could not load the keys of sign-in provider %s: %s", state.config.name, error)
                if current is None:
                    raise _Rejected(f"{state.config.name} could not be reached", UNREACHABLE) from None
                return current
            return state.keys

    def _usable(self, keys: _ProviderKeys, kid: str | None) -> bool:
        fresh = keys.fetched_at <= self._clock.now() < keys.fetched_at + self._keys_max_age
        return fresh and (kid is None or keys.has(kid))

    def _may_fetch(self, state: _ProviderState, now: datetime) -> bool:
        last = state.last_attempt
        if last is None or now < last:  # never tried, or the clock went back
            return True
        interval = self._min_refresh_interval
        if state.keys is None:
            interval = min(interval, COLD_RETRY_INTERVAL)
        return now - last >= interval

    async def _fetch(self, config: OidcProviderConfig, now: datetime) -> _ProviderKeys:
        discovery_url = config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        async with httpx.AsyncClient(timeout=self._http_timeout, follow_redirects=False) as client:
            discovery = await self._get_json(client, discovery_url)
            if discovery.get("issuer") != config.issuer:
                raise _FetchFailed("the discovery document names another issuer")
            jwks_uri = discovery.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not _allowed_url(jwks_uri, config.issuer):
                raise _FetchFailed("the discovery document has no usable jwks_uri")
            advertised = discovery.get("id_token_signing_alg_values_supported", DEFAULT_ALGORITHMS)
            if not isinstance(advertised, list | tuple):
                raise _FetchFailed("id_token_signing_alg_values_supported is not a list")
            algorithms = ALLOWED_ALGORITHMS.intersection(a for a in advertised if isinstance(a, str))
            if not algorithms:
                raise _FetchFailed("the provider advertises no algorithm that we allow")
            keys = _published_keys(await self._get_json(client, jwks_uri))
        return _ProviderKeys(keys, algorithms, now)

    async def _get_json(self, client: httpx.AsyncClient, url: str) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._http_timeout):
                async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
                    if response.status_code != 200:
                        raise _FetchFailed(f"{url} answered {response.status_code}")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_DOCUMENT_BYTES:
                            raise _FetchFailed(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
        except (httpx.HTTPError, TimeoutError) as error:
            raise _FetchFailed(f"{url}: {type(error).__name__}") from None
        try:
            document = json.loads(body)
        except ValueError:
            raise _FetchFailed(f"{url} did not answer JSON") from None
        if not isinstance(document, dict):
            raise _FetchFailed(f"{url} did not answer a JSON object")
        return document


def _allowed_url(url: str, issuer: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    # Plain http only where the issuer itself is a local test provider.
    issuer_parts = urlsplit(issuer)
    return parts.scheme == "http" and issuer_parts.scheme == "http" and parts.hostname in LOCAL_HOSTS


def _published_keys(document: Mapping[str, Any]) -> tuple[_PublishedKey, ...]:
    """The signature-verification keys of a JWK Set, each parsed once by pyjwt so that unusable ones are left out."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise _FetchFailed("the JWK Set has no key list")
    keys: list[_PublishedKey] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") not in KEY_TYPES or "d" in entry:
            continue  # symmetric keys, private keys and junk are never trusted
        if entry.get("use", "sig") != "sig":
            continue
        operations = entry.get("key_ops")
        if operations is not None and (not isinstance(operations, list) or "verify" not in operations):
            continue
        algorithm = entry.get("alg")
        if algorithm is not None and algorithm not in ALLOWED_ALGORITHMS:
            continue
        kid = entry.get("kid")
        if kid is not None and not isinstance(kid, str):
            continue
        try:
            PyJWK.from_dict(entry)
        except jwt.PyJWTError:
            continue
        keys.append(_PublishedKey(kid, entry))
    if not keys:
        raise _FetchFailed("the JWK Set has no usable signing key")
    return tuple(keys)


def _pick_key(provider_keys: _ProviderKeys, kid: str | None) -> _PublishedKey:
    if kid is None:
        # Without a key id the key is unambiguous only when the provider publishes exactly one.
        if len(provider_keys.keys) == 1:
            return provider_keys.keys[0]
        raise _Rejected("no key id while the provider publishes several keys")
    for key in provider_keys.keys:
        if key.kid == kid:
            return key
    raise _Rejected("a key id that the provider does not publish")


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
