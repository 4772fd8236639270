"""Discovery documents and key sets of the OpenID Connect providers: fetched from the configured issuer only,
size- and time-limited, cached, and refreshed at a bounded rate."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from jwt import PyJWK

from adapters.security.oidc.config import LOCAL_HOSTS, OidcProviderConfig
from application.ports.system import Clock

logger = logging.getLogger(__name__)

# A fixed allow-list: asymmetric algorithms only, never ``none`` or HS* (whose "secret" would be the public key).
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# OpenID Connect Discovery 1.0: when a provider does not say, ID tokens are signed with RS256.
DEFAULT_ALGORITHMS = ("RS256",)
# Discovery documents and key sets are small; a provider (or whatever answers in its place) cannot make us read more.
MAX_DOCUMENT_BYTES = 512 * 1024
# With no keys nothing can be verified, so after a failed first load we try again sooner than the refresh interval.
COLD_RETRY_INTERVAL = timedelta(seconds=5)
KEY_TYPES = frozenset({"RSA", "EC", "OKP"})


@dataclass(frozen=True, slots=True)
class PublishedKey:
    kid: str | None
    jwk: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ProviderKeys:
    keys: tuple[PublishedKey, ...]
    algorithms: frozenset[str]
    fetched_at: datetime

    def has(self, kid: str) -> bool:
        return any(key.kid == kid for key in self.keys)


@dataclass(slots=True)
class _ProviderState:
    config: OidcProviderConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    keys: ProviderKeys | None = None
    last_attempt: datetime | None = None


class KeysUnavailable(Exception):
    """The provider's keys could not be loaded and none are cached."""


class _FetchFailed(Exception):
    pass


class ProviderKeySets:
    """Each configured provider's discovery document and signing keys, fetched on demand and cached.

    Keys are fetched on first use and again after ``keys_max_age``; a ``kid`` missing from the cache triggers one
    refresh. Fetches of one provider never happen more than once per ``min_refresh_interval`` (so tokens with made-up
    key ids cannot make us hammer the provider), concurrent requests share one fetch, and when a refresh fails the
    keys already cached keep working.
    """

    def __init__(
        self,
        providers: Sequence[OidcProviderConfig],
        *,
        http_timeout: float,
        min_refresh_interval: timedelta,
        keys_max_age: timedelta,
        clock: Clock,
    ) -> None:
        if http_timeout <= 0:
            raise ValueError("http_timeout must be positive")
        self._states = {provider.issuer: _ProviderState(provider) for provider in providers}
        self._http_timeout = http_timeout
        self._min_refresh_interval = min_refresh_interval
        self._keys_max_age = keys_max_age
        self._clock = clock

    def provider(self, issuer: object) -> OidcProviderConfig | None:
        """The configured provider with this issuer identifier, if any."""
        state = self._states.get(issuer) if isinstance(issuer, str) else None
        return None if state is None else state.config

    async def keys(self, issuer: str, kid: str | None) -> ProviderKeys:
        """The provider's keys, fresh enough and holding ``kid`` if they can be; ``KeysUnavailable`` when there
        are none to use at all."""
        return await self._keys(self._states[issuer], kid)

    async def _keys(self, state: _ProviderState, kid: str | None) -> ProviderKeys:
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
                    raise KeysUnavailable(f"{state.config.name} was unreachable moments ago")
                return current
            state.last_attempt = now
            try:
                state.keys = await self._fetch(state.config, now)
            except _FetchFailed as error:
                logger.warning("Could not load the keys of sign-in provider %s: %s", state.config.name, error)
                if current is None:
                    raise KeysUnavailable(f"{state.config.name} could not be reached") from None
                return current
            return state.keys

    def _usable(self, keys: ProviderKeys, kid: str | None) -> bool:
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

    async def _fetch(self, config: OidcProviderConfig, now: datetime) -> ProviderKeys:
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
        return ProviderKeys(keys, algorithms, now)

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


def _published_keys(document: Mapping[str, Any]) -> tuple[PublishedKey, ...]:
    """The signature-verification keys of a JWK Set, each parsed once by pyjwt so that unusable ones are left out."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise _FetchFailed("the JWK Set has no key list")
    keys: list[PublishedKey] = []
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
        keys.append(PublishedKey(kid, entry))
    if not keys:
        raise _FetchFailed("the JWK Set has no usable signing key")
    return tuple(keys)
