"""The OAuth 2.0 token and revocation endpoints' bodies, and the sign-in providers' listing."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct


class TokenRequest(Struct):
    """The token endpoint's form (RFC 6749 §4.3, §6; RFC 8693). Extra OAuth parameters such as
    ``scope`` or ``client_id`` are accepted and ignored, as RFC 6749 §3.2 requires."""

    grant_type: Annotated[
        str,
        Meta(
            description="password (with username and password), refresh_token, or token exchange (RFC 8693).",
            examples=["password"],
            extra_json_schema={
                "extra": {"enum": ["password", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"]}
            },
        ),
    ]
    username: Annotated[str | None, Meta(description="The user's e-mail address.", examples=["ada@example.com"])] = None
    password: str | None = None
    refresh_token: str | None = None
    subject_token: str | None = None
    subject_token_type: str | None = None
    scope: str | None = None
    client_id: str | None = None


class RevokeRequest(Struct):
    token: str
    token_type_hint: str | None = None


class TokenResponse(Struct):
    access_token: str
    expires_in: int
    refresh_token: str
    token_type: str = "Bearer"


class OAuthError(Struct):
    error: str
    error_description: str


class ProviderOut(Struct):
    name: str
    issuer: str
    client_id: str
