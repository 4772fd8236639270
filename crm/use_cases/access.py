"""Who may come in: signing in and out, users, my account, API keys."""

from __future__ import annotations

from dependency_injector import providers

from adapters.http.edge.client_address import ClientAddresses, parse_networks
from adapters.security.oidc import OidcIdentityProviders, parse_oidc_providers
from application.access.api_keys import CreateApiKey, DeleteApiKey, ListApiKeys
from application.access.authentication import Authenticate
from application.access.my_account import ChangeMyPassword, WhoAmI
from application.access.sign_in import (
    RefreshSignIn,
    RevokeSignIn,
    SessionPolicy,
    SignInTokens,
    SignInWithIdToken,
    SignInWithPassword,
)
from application.access.sign_in_throttle import ThrottlePolicy
from application.access.users import (
    BootstrapFirstAdmin,
    CreateUser,
    DeleteUser,
    GetUser,
    ListUsers,
    UpdateUser,
)
from crm.use_cases.shared import Shared

# Providers of the parts this one builds on, under their own names.
access_tokens = Shared.access_tokens
adapters = Shared.adapters
clock = Shared.clock
ids = Shared.ids
password_hasher = Shared.password_hasher
settings = Shared.settings


class AccessUseCases(Shared):
    session_policy = providers.Singleton(
        SessionPolicy,
        refresh_token_lifetime=settings.provided.refresh_token_lifetime,
        session_lifetime=settings.provided.session_lifetime,
    )

    sign_in_tokens = providers.Singleton(
        SignInTokens, tokens=access_tokens, ids=ids, clock=clock, policy=session_policy
    )

    # Signing in and out.
    throttle_policy = providers.Singleton(ThrottlePolicy)

    sign_in_with_password = providers.Singleton(
        SignInWithPassword,
        uow=adapters.unit_of_work,
        hasher=password_hasher,
        sign_in=sign_in_tokens,
        throttle=adapters.sign_in_throttle,
        policy=throttle_policy,
        clock=clock,
    )

    identity_providers = providers.Singleton(
        OidcIdentityProviders,
        providers=providers.Factory(parse_oidc_providers, settings.provided.oidc_providers),
        clock=clock,
    )

    sign_in_with_id_token = providers.Singleton(
        SignInWithIdToken, uow=adapters.unit_of_work, providers=identity_providers, sign_in=sign_in_tokens
    )

    client_addresses = providers.Singleton(
        ClientAddresses, trusted_proxies=providers.Factory(parse_networks, settings.provided.trusted_proxies)
    )

    refresh_sign_in = providers.Singleton(
        RefreshSignIn, uow=adapters.unit_of_work, clock=clock, sign_in=sign_in_tokens, actors=adapters.actors
    )

    revoke_sign_in = providers.Singleton(RevokeSignIn, uow=adapters.unit_of_work, clock=clock, actors=adapters.actors)

    authenticate = providers.Singleton(Authenticate, tokens=access_tokens, actors=adapters.actors, clock=clock)

    # Users.
    who_am_i = providers.Singleton(WhoAmI, uow=adapters.unit_of_work)

    change_my_password = providers.Singleton(
        ChangeMyPassword, uow=adapters.unit_of_work, hasher=password_hasher, clock=clock, actors=adapters.actors
    )

    list_users = providers.Singleton(ListUsers, uow=adapters.unit_of_work)

    create_user = providers.Singleton(
        CreateUser, uow=adapters.unit_of_work, hasher=password_hasher, clock=clock, ids=ids
    )

    bootstrap_first_admin = providers.Singleton(BootstrapFirstAdmin, uow=adapters.unit_of_work, create_user=create_user)

    get_user = providers.Singleton(GetUser, uow=adapters.unit_of_work)

    update_user = providers.Singleton(
        UpdateUser, uow=adapters.unit_of_work, hasher=password_hasher, clock=clock, actors=adapters.actors
    )

    delete_user = providers.Singleton(DeleteUser, uow=adapters.unit_of_work, clock=clock, actors=adapters.actors)

    # API keys.
    create_api_key = providers.Singleton(CreateApiKey, uow=adapters.unit_of_work, clock=clock, ids=ids)

    list_api_keys = providers.Singleton(ListApiKeys, uow=adapters.unit_of_work)

    delete_api_key = providers.Singleton(DeleteApiKey, uow=adapters.unit_of_work, clock=clock, actors=adapters.actors)
