"""Which OpenID Connect providers users may sign in with: ``CRM_OIDC_PROVIDERS``, read and checked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ENV_VAR = "CRM_OIDC_PROVIDERS"


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
    check_unique(providers)
    return providers


def check_unique(providers: Sequence[OidcProviderConfig]) -> None:
    for attribute in ("name", "issuer"):
        seen: set[str] = set()
        for provider in providers:
            value = getattr(provider, attribute)
            if value in seen:
                raise ValueError(f"{ENV_VAR}: two providers have the {attribute} {value!r}; each must be unique")
            seen.add(value)
