"""/api/v1/auth: the OAuth 2.0 token endpoint (RFC 6749), revocation (RFC 7009), sign-in providers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import URLEncodedBody
from litestar.status_codes import HTTP_200_OK

from adapters.http.openapi import oauth_error_responses
from adapters.http.schemas import OAuthError, ProviderOut, RevokeRequest, TokenRequest, TokenResponse
from application.sign_in import RefreshSignIn, RevokeSignIn, SignInWithPassword, TokenPair
from domain.errors import InvalidGrant, InvalidInput, MalformedRequest

PASSWORD_GRANT = "password"
REFRESH_GRANT = "refresh_token"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthFailure(Exception):
    """An error answered in the RFC 6749 §5.2 format rather than as problem+json."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _oauth_error(_: Request[Any, Any, Any], failure: Exception) -> Response[OAuthError]:
    if isinstance(failure, OAuthFailure):
        body = OAuthError(failure.error, failure.description)
    elif isinstance(failure, InvalidGrant):
        body = OAuthError("invalid_grant", failure.detail)
    elif isinstance(failure, HTTPException) and failure.status_code == 415:
        body = OAuthError("invalid_request", "Send the form as application/x-www-form-urlencoded.")
    else:
        body = OAuthError("invalid_request", "The request is missing a parameter or has an invalid one.")
    return Response(body, status_code=400, headers=NO_CACHE)


OAUTH_ERRORS: dict[type[Exception] | int, Any] = {
    OAuthFailure: _oauth_error,
    InvalidGrant: _oauth_error,
    InvalidInput: _oauth_error,
    MalformedRequest: _oauth_error,
    ValidationException: _oauth_error,
}


def _required(value: str | None, name: str) -> str:
    if not value:
        raise OAuthFailure("invalid_request", f"The {name} parameter is required.")
    return value


def _token_response(pair: TokenPair) -> Response[TokenResponse]:
    return Response(TokenResponse(pair.access_token, pair.expires_in, pair.refresh_token), headers=NO_CACHE)


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["Authentication"]

    @post(
        "/token",
        status_code=HTTP_200_OK,
        exception_handlers=OAUTH_ERRORS,
        responses=oauth_error_responses(),
        summary="OAuth 2.0 token endpoint: password, refresh_token and token-exchange grants",
    )
    async def token(
        self,
        data: URLEncodedBody[TokenRequest],
        sign_in_with_password: NamedDependency[SignInWithPassword],
        refresh_sign_in: NamedDependency[RefreshSignIn],
    ) -> Response[TokenResponse]:
        if data.grant_type == PASSWORD_GRANT:
            username = _required(data.username, "username")
            password = _required(data.password, "password")
            return _token_response(await sign_in_with_password.execute(username, password))
        if data.grant_type == REFRESH_GRANT:
            return _token_response(await refresh_sign_in.execute(_required(data.refresh_token, "refresh_token")))
        raise OAuthFailure("unsupported_grant_type", f"The grant type {data.grant_type!r} is not supported.")

    @post(
        "/revoke",
        status_code=HTTP_200_OK,
        exception_handlers=OAUTH_ERRORS,
        responses=oauth_error_responses(),
        summary="End the sign-in session of a refresh token (RFC 7009)",
    )
    async def revoke(
        self, data: URLEncodedBody[RevokeRequest], revoke_sign_in: NamedDependency[RevokeSignIn]
    ) -> Response[None]:
        await revoke_sign_in.execute(data.token)
        return Response(None, headers=NO_CACHE)

    @get("/providers", summary="OpenID Connect providers that users may sign in with")
    async def providers(self, sign_in_providers: NamedDependency[list[ProviderOut]]) -> list[ProviderOut]:
        return sign_in_providers
