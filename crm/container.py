"""The application container: the use cases, and which adapters they are built on.

``Application`` holds the use cases; it takes its driven adapters from a ``DependenciesContainer``
that is either ``DatabaseAdapters`` (PostgreSQL, the production profile) or ``InMemoryAdapters``
(fast tests, and a proof that the core does not care); both are in ``crm.adapter_containers``.
"""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from adapters.http.edge.client_address import ClientAddresses, parse_networks
from adapters.http.server import shutdown_requested
from adapters.photos.images import PillowImageProcessor
from adapters.photos.local import LocalPhotoStorage
from adapters.photos.memory import InMemoryPhotoStorage
from adapters.photos.signing import UrlSigner
from adapters.security.access_tokens import JwtAccessTokens
from adapters.security.answer_seal import AesGcmAnswerSeal
from adapters.security.oidc import OidcIdentityProviders, parse_oidc_providers
from adapters.security.passwords import Argon2PasswordHasher, HashingCost
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIds
from adapters.webhooks.metrics import count_outcome
from adapters.webhooks.sender import HttpWebhookSender
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
from application.customers.editing import CreateCustomer, DeleteCustomer, UpdateCustomer
from application.customers.erasure import EraseCustomer
from application.customers.exporting import ExportCustomers
from application.customers.history import ListCustomerHistory
from application.customers.importing import ImportCustomers
from application.customers.live_changes import LiveChanges
from application.customers.photo_rules import PhotoLimits
from application.customers.photo_sweep import SweepOrphanPhotos
from application.customers.photos import LinkPhotos, RemoveCustomerPhoto, UploadCustomerPhoto
from application.customers.reading import GetCustomer, ListCustomers
from application.customers.stream_guard import StreamGuard
from application.customers.trash import ListTrash, PurgeTrash, RestoreCustomer
from application.idempotency import IdempotentRequests, SweepIdempotencyRecords
from application.integrations.delivery_log import ListWebhookDeliveries, RetryWebhookDelivery, SendTestEvent
from application.integrations.delivery_worker import DeliverWebhooks, WebhookWorker
from application.integrations.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    GetWebhook,
    ListWebhooks,
    RotateWebhookSecret,
    UpdateWebhook,
)
from crm.adapter_containers import DatabaseAdapters, InMemoryAdapters
from crm.live_change_settings import live_change_settings
from crm.settings import Settings
from crm.signing_keys import signing_keys


class Application(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    adapters = providers.DependenciesContainer()

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        cost=providers.Factory(
            HashingCost,
            time_cost=settings.provided.password_time_cost,
            memory_kib=settings.provided.password_memory_kib,
            parallelism=settings.provided.password_parallelism,
        ),
    )
    access_tokens = providers.Singleton(
        JwtAccessTokens,
        keys=providers.Factory(signing_keys, settings),
        issuer=settings.provided.token_issuer,
        audience=settings.provided.token_audience,
        lifetime=settings.provided.access_token_lifetime,
        clock=clock,
    )
    session_policy = providers.Singleton(
        SessionPolicy,
        refresh_token_lifetime=settings.provided.refresh_token_lifetime,
        session_lifetime=settings.provided.session_lifetime,
    )
    sign_in_tokens = providers.Singleton(
        SignInTokens, tokens=access_tokens, ids=ids, clock=clock, policy=session_policy
    )

    # Photos: kept in a local folder by default; the app factory swaps in S3 when it is configured.
    photo_limits = providers.Singleton(
        PhotoLimits, max_bytes=settings.provided.photo_max_bytes, max_pixels=settings.provided.photo_max_pixels
    )
    image_processor = providers.Singleton(PillowImageProcessor, limits=photo_limits)
    photo_url_signer = providers.Singleton(
        UrlSigner,
        secret=providers.Factory(lambda settings: settings.secret_key.encode(), settings),
        lifetime=providers.Factory(lambda settings: timedelta(seconds=settings.photo_url_lifetime_seconds), settings),
        clock=clock,
    )
    photo_storage = providers.Singleton(
        LocalPhotoStorage,
        folder=settings.provided.local_photo_dir,
        signer=photo_url_signer,
        # Photo keys start with "photos/", so local photo URLs read {public_url}/photos/<random>.
        base_url=settings.provided.public_url,
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

    # Customers.
    create_customer = providers.Singleton(CreateCustomer, uow=adapters.unit_of_work, clock=clock)
    list_customers = providers.Singleton(ListCustomers, uow=adapters.unit_of_work)
    get_customer = providers.Singleton(GetCustomer, uow=adapters.unit_of_work)
    update_customer = providers.Singleton(UpdateCustomer, uow=adapters.unit_of_work, clock=clock)
    delete_customer = providers.Singleton(DeleteCustomer, uow=adapters.unit_of_work, clock=clock)
    erase_customer = providers.Singleton(EraseCustomer, uow=adapters.unit_of_work, storage=photo_storage, clock=clock)
    restore_customer = providers.Singleton(RestoreCustomer, uow=adapters.unit_of_work, clock=clock)
    list_trash = providers.Singleton(ListTrash, uow=adapters.unit_of_work)
    purge_trash = providers.Singleton(
        PurgeTrash,
        uow=adapters.unit_of_work,
        storage=photo_storage,
        clock=clock,
        period=settings.provided.trash_period,
    )
    export_customers = providers.Singleton(ExportCustomers, uow=adapters.unit_of_work)
    import_customers = providers.Singleton(ImportCustomers, uow=adapters.unit_of_work, clock=clock)
    list_customer_history = providers.Singleton(ListCustomerHistory, uow=adapters.unit_of_work)
    link_photos = providers.Singleton(LinkPhotos, storage=photo_storage)
    # Live changes: one hub per process (its tasks run while streams are open) and the guard of their access.
    live_changes = providers.Singleton(
        LiveChanges, adapters.customer_event_feed, authenticate, photo_storage, clock,
        providers.Factory(live_change_settings, settings), stopping=providers.Object(shutdown_requested),
    )  # fmt: skip
    stream_guard = providers.Singleton(
        StreamGuard, live_changes, authenticate, adapters.access_changes, clock, providers.Object(shutdown_requested)
    )
    upload_customer_photo = providers.Singleton(
        UploadCustomerPhoto, uow=adapters.unit_of_work, images=image_processor, storage=photo_storage, clock=clock
    )
    remove_customer_photo = providers.Singleton(
        RemoveCustomerPhoto, uow=adapters.unit_of_work, storage=photo_storage, clock=clock
    )
    sweep_orphan_photos = providers.Singleton(
        SweepOrphanPhotos, uow=adapters.unit_of_work, storage=photo_storage, clock=clock
    )

    # Idempotency-Key on create requests.
    idempotent_requests = providers.Singleton(
        IdempotentRequests,
        records=adapters.idempotency_records,
        clock=clock,
        seal=providers.Singleton(
            AesGcmAnswerSeal, providers.Factory(lambda settings: settings.secret_key.encode(), settings)
        ),
    )
    sweep_idempotency_records = providers.Singleton(
        SweepIdempotencyRecords, records=adapters.idempotency_records, clock=clock
    )

    # API keys.
    create_api_key = providers.Singleton(CreateApiKey, uow=adapters.unit_of_work, clock=clock, ids=ids)
    list_api_keys = providers.Singleton(ListApiKeys, uow=adapters.unit_of_work)
    delete_api_key = providers.Singleton(DeleteApiKey, uow=adapters.unit_of_work, clock=clock, actors=adapters.actors)

    # Webhooks: management, and the delivery worker.
    webhook_sender = providers.Singleton(
        HttpWebhookSender,
        allow_private=settings.provided.webhook_allow_private,
        require_https=providers.Factory(lambda settings: settings.is_production, settings),
    )
    create_webhook = providers.Singleton(
        CreateWebhook, uow=adapters.unit_of_work, sender=webhook_sender, clock=clock, ids=ids
    )
    list_webhooks = providers.Singleton(ListWebhooks, uow=adapters.unit_of_work)
    get_webhook = providers.Singleton(GetWebhook, uow=adapters.unit_of_work)
    update_webhook = providers.Singleton(UpdateWebhook, uow=adapters.unit_of_work, sender=webhook_sender, clock=clock)
    delete_webhook = providers.Singleton(DeleteWebhook, uow=adapters.unit_of_work)
    rotate_webhook_secret = providers.Singleton(RotateWebhookSecret, uow=adapters.unit_of_work, clock=clock)
    send_test_event = providers.Singleton(SendTestEvent, uow=adapters.unit_of_work, clock=clock, ids=ids)
    list_webhook_deliveries = providers.Singleton(ListWebhookDeliveries, uow=adapters.unit_of_work)
    retry_webhook_delivery = providers.Singleton(RetryWebhookDelivery, uow=adapters.unit_of_work, clock=clock)
    deliver_webhooks = providers.Singleton(
        DeliverWebhooks, queue=adapters.delivery_queue, sender=webhook_sender, clock=clock, on_outcome=count_outcome
    )
    webhook_worker = providers.Singleton(
        WebhookWorker,
        deliver=deliver_webhooks,
        queue=adapters.delivery_queue,
        clock=clock,
        loops=settings.provided.webhook_worker_loops,
    )


def build_container(settings: Settings, *, in_memory: bool = False) -> Application:
    """The production profile (PostgreSQL), or with ``in_memory`` the in-memory profile."""
    if in_memory:
        container = Application(settings=settings, adapters=InMemoryAdapters(settings=settings))
        container.photo_storage.override(providers.Singleton(InMemoryPhotoStorage, clock=container.clock))
        return container
    return Application(settings=settings, adapters=DatabaseAdapters(settings=settings))
