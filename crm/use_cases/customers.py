"""The shop's customers: reading and editing them, their photos, history, trash, files and live changes."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import providers

from adapters.http.server import shutdown_requested
from adapters.photos.images import PillowImageProcessor
from adapters.photos.local import LocalPhotoStorage
from adapters.photos.signing import UrlSigner
from application.customers.editing import CreateCustomer, DeleteCustomer, UpdateCustomer
from application.customers.erasure import EraseCustomer
from application.customers.event_retention import ForgetOldChangeEvents
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
from crm.live_change_settings import live_change_settings, replay_window
from crm.use_cases.access import AccessUseCases
from crm.use_cases.shared import Shared

# Providers of the parts this one builds on, under their own names.
adapters = Shared.adapters
authenticate = AccessUseCases.authenticate
clock = Shared.clock
settings = Shared.settings


class CustomerUseCases(AccessUseCases):
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

    # The hourly maintenance forgets old events too, whether or not anyone follows (event_retention.py).
    forget_old_change_events = providers.Factory(
        ForgetOldChangeEvents, adapters.customer_event_feed, clock, providers.Factory(replay_window, settings)
    )

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
