"""/api/v1/auth: the OAuth 2.0 token endpoint (RFC 6749), revocation (RFC 7009), sign-in providers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import URLEncodedBody
from litestar.status_codes import HTTP_200_OK
from prometheus_client import Counter

from adapters.http.access.authentication import refuse_api_keys
from adapters.http.access.sign_in_schemas import OAuthError, ProviderOut, RevokeRequest, TokenRequest, TokenResponse
from adapters.http.edge.client_address import ClientAddresses
from adapters.http.openapi.operations import oauth_error_responses
from application.access.sign_in import RefreshSignIn, RevokeSignIn, SignInWithIdToken, SignInWithPassword, TokenPair
from application.ports.identity_providers import IdentityProviders
from domain.errors import InvalidGrant, InvalidInput, MalformedRequest

PASSWORD_GRANT = "password"
REFRESH_GRANT = "refresh_token"
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
NO_CACHE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SIGN_INS = Counter("crm_sign_ins", "Token endpoint outcomes by grant type.", ["grant", "outcome"])


class OAuthFailure(Exception):
    """An error answered in the RFC 6749 §5.2 format rather than as problem+json."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _oauth_error(request: Request[Any, Any, Any], failure: Exception) -> Response[OAuthError]:
    if isinstance(failure, OAuthFailure):
        body = OAuthError(failure.error, failure.description)
    elif isinstance(failure, InvalidGrant):
        body = OAuthError("invalid_grant", failure.detail)
    elif isinstance(failure, HTTPException) and failure.status_code == 415:
        body = OAuthError("invalid_request", "Send the form as application/x-www-form-urlencoded.")
    else:
        body = OAuthError("invalid_request", "The request is missing a parameter or has an invalid one.")
    SIGN_INS.labels(_grant_label(request), body.error).inc()
    return Response(body, status_code=400, headers=NO_CACHE)


def _grant_label(request: Request[Any, Any, Any]) -> str:
    # Only the three grants we know become label values, so a client cannot create new series.
    grant = str(request.scope.get("crm.grant_type", "other"))
    return grant if grant in (PASSWORD_GRANT, REFRESH_GRANT, TOKEN_EXCHANGE_GRANT) else "other"


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
    guards = [refuse_api_keys]

    @post(
        "/token",
        status_code=HTTP_200_OK,
        exception_handlers=OAUTH_ERRORS,
        responses=oauth_error_responses(),
        summary="OAuth 2.0 token endpoint: password, refresh_token and token-exchange grants",
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[TokenRequest],
        sign_in_with_password: NamedDependency[SignInWithPassword],
        sign_in_with_id_token: NamedDependency[SignInWithIdToken],
        refresh_sign_in: NamedDependency[RefreshSignIn],
        client_addresses: NamedDependency[ClientAddresses],
    ) -> Response[TokenResponse]:
        request.scope["crm.grant_type"] = data.grant_type  # type: ignore[typeddict-unknown-key]
        response = await self._grant(
            request, data, sign_in_with_password, sign_in_with_id_token, refresh_sign_in, client_addresses
        )
        SIGN_INS.labels(_grant_label(request), "success").inc()
        return response

    async def _grant(
        self,
        request: Request[Any, Any, Any],
        data: TokenRequest,
        sign_in_with_password: SignInWithPassword,
        sign_in_with_id_token: SignInWithIdToken,
        refresh_sign_in: RefreshSignIn,
        client_addresses: ClientAddresses,
    ) -> Response[TokenResponse]:
        if data.grant_type == PASSWORD_GRANT:
            username = _required(data.username, "username")
            password = _required(data.password, "password")
            client = client_addresses.of(request)
            return _token_response(await sign_in_with_password.execute(username, password, client))
        if data.grant_type == REFRESH_GRANT:
            return _token_response(await refresh_sign_in.execute(_required(data.refresh_token, "refresh_token")))
        if data.grant_type == TOKEN_EXCHANGE_GRANT:
            subject_token = _required(data.subject_token, "subject_token")
            if data.subject_token_type != ID_TOKEN_TYPE:
                raise OAuthFailure("invalid_request", f"The subject_token_type must be {ID_TOKEN_TYPE}.")
            return _token_response(await sign_in_with_id_token.execute(subject_token))
        raise OAuthFailure("unsupported_grant_type", f"The grant type {data.grant_type!r} is not supported.")

    @post(
        "/revoke",
        status_code=HTTP_200_OK,
        exception_handlers=OAUTH_ERRORS,
        responses=oauth_error_responses(),
        summary="End the sign-in session of a refresh token (RFC 7009)",
        media_type=MediaType.TEXT,
    )
    async def revoke(
        self, data: URLEncodedBody[RevokeRequest], revoke_sign_in: NamedDependency[RevokeSignIn]
    ) -> Response[bytes]:
        await revoke_sign_in.execute(data.token)
        # RFC 7009 §2.2: the content of the answer is ignored by clients; send none.
        return Response(b"", headers=NO_CACHE, media_type=MediaType.TEXT)

    @get("/providers", summary="OpenID Connect providers that users may sign in with")
    async def providers(self, identity_providers: NamedDependency[IdentityProviders]) -> list[ProviderOut]:
        return [ProviderOut(item.name, item.issuer, item.client_id) for item in identity_providers.listed()]
