"""Sign-in with OpenID Connect providers, in three parts: ``config`` reads which providers are allowed,
``key_sets`` fetches and caches their discovery documents and keys, ``verification`` checks an ID token's
signature and claims. The names below are what the rest of the service uses."""

from adapters.security.oidc.config import OidcProviderConfig, parse_oidc_providers
from adapters.security.oidc.key_sets import COLD_RETRY_INTERVAL
from adapters.security.oidc.verification import (
    EXPIRED_TOKEN,
    INVALID_TOKEN,
    UNKNOWN_ISSUER,
    UNREACHABLE,
    UNVERIFIED_EMAIL,
    OidcIdentityProviders,
)

__all__ = [
    "COLD_RETRY_INTERVAL",
    "EXPIRED_TOKEN",
    "INVALID_TOKEN",
    "UNKNOWN_ISSUER",
    "UNREACHABLE",
    "UNVERIFIED_EMAIL",
    "OidcIdentityProviders",
    "OidcProviderConfig",
    "parse_oidc_providers",
]
