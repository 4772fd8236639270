"""The application factory: everything is built here, at call time, never at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from dependency_injector import providers
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http.app import create_http_app
from adapters.http.customers.stream_metrics import LIVE_CHANGE_METRICS
from adapters.http.edge.response_headers import ASGIApp
from adapters.http.health import Check, Readiness
from adapters.http.server import shutdown_requested
from adapters.observability.log_writer import flush_logs
from adapters.observability.tracing import tracing
from adapters.photos.local import LocalPhotoStorage
from adapters.sql.access.actor_lookup import CachedActorLookup
from adapters.sql.pool_metrics import POOL_METRICS
from crm.container import Application, build_container
from crm.fair_use import fair_use_of, start_exchanging, stop_exchanging
from crm.http_provided import http_provided
from crm.settings import Settings, SettingsError
from domain.errors import Conflict

logger = logging.getLogger("crm")


def _database_check(engine: AsyncEngine) -> Check:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


def create_app(settings: Settings | None = None, *, in_memory: bool = False) -> ASGIApp:
    """The ASGI application. ``in_memory`` swaps every driven adapter for its in-memory twin."""
    settings = settings or Settings.from_environment()
    if not in_memory and not settings.database_url:
        raise SettingsError("DATABASE_URL is not set; use `crm serve`, which starts an embedded database.")
    container = build_container(settings, in_memory=in_memory)
    engine = None if in_memory else container.adapters.engine()
    return build_asgi_app(container, engine)[1]


def build_asgi_app(container: Application, engine: AsyncEngine | None) -> tuple[Litestar, ASGIApp]:
    """The app on ``container``; ``engine`` is the database's, None for the in-memory profile."""
    settings: Settings = container.settings()
    checks: dict[str, Check] = {"photo_storage": lambda: container.photo_storage().check()}
    if engine is not None:
        checks["database"] = _database_check(engine)
    readiness = Readiness(checks, shutdown_requested=shutdown_requested)
    traced = tracing(settings.otlp_endpoint)
    fair_use, sync = fair_use_of(container)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        async with AsyncExitStack() as resources:
            # Last at shutdown, once requests are drained: every queued log line is written (atexit does it too).
            resources.push_async_callback(asyncio.to_thread, flush_logs)
            if engine is not None:
                POOL_METRICS.watch(engine)
                resources.callback(POOL_METRICS.forget, engine)
                actors = container.adapters.actors()
                if isinstance(actors, CachedActorLookup):
                    await actors.start()
                    resources.push_async_callback(actors.aclose)
            await use_s3_photo_storage(container, resources)
            if traced is not None:
                resources.callback(traced[1].shutdown)  # flushes the spans not yet exported
            await _bootstrap_first_admin(container, settings)
            # Built after the photo storage is settled (the hub signs photo URLs); its tasks start with a stream.
            container.stream_guard()
            LIVE_CHANGE_METRICS.watch(container.live_changes())
            resources.callback(LIVE_CHANGE_METRICS.forget, container.live_changes())
            resources.push_async_callback(container.live_changes().aclose)
            exchanging = await start_exchanging(sync)
            if settings.webhooks_in_serve:
                from crm.webhook_worker import webhook_worker_running

                await resources.enter_async_context(webhook_worker_running(container))
            # What start-up built (modules, routes, the container) lives as long as the process: keep it out of
            # the collector's full passes, which otherwise walk it all and pause requests for tens of ms.
            gc.freeze()
            try:
                yield
            finally:
                readiness.shutting_down = True
                await stop_exchanging(sync, exchanging)
                if engine is not None:
                    await engine.dispose()

    provided = http_provided(container)
    local_photos = not settings.uses_s3 and isinstance(container.photo_storage(), LocalPhotoStorage)
    if local_photos:
        provided["local_photos"] = container.photo_storage
    return create_http_app(
        provided=provided,
        readiness=readiness,
        cors_origins=settings.cors_origins,
        lifespan=[lifespan],
        serve_local_photos=local_photos,
        plugins=[traced[0]] if traced is not None else [],
        fair_use=fair_use,
    )


async def use_s3_photo_storage(container: Application, resources: AsyncExitStack) -> None:
    """When S3 is configured, put photos there: the client lives as long as ``resources`` and is created
    in the running loop. The one place S3 is opened, for the server and the command line alike."""
    settings: Settings = container.settings()
    if not settings.uses_s3:
        return
    # Imported here: aiobotocore costs ~19 MiB of memory, for nothing when photos are kept locally.
    from adapters.photos.s3 import S3PhotoStorage, open_s3_client

    assert settings.s3_bucket is not None
    client = await resources.enter_async_context(
        open_s3_client(region=settings.s3_region, endpoint_url=settings.s3_endpoint_url)
    )
    storage = S3PhotoStorage(client, settings.s3_bucket, settings.s3_prefix, settings.photo_url_lifetime_seconds)
    # Nothing has asked for the photo storage yet: use cases are built at their first use.
    container.photo_storage.override(providers.Object(storage))


async def _bootstrap_first_admin(container: Application, settings: Settings) -> None:
    if not (settings.bootstrap_admin_email and settings.bootstrap_admin_password):
        return
    try:
        created = await container.bootstrap_first_admin().execute(
            settings.bootstrap_admin_email, settings.bootstrap_admin_name, settings.bootstrap_admin_password
        )
    except Conflict:
        # Another worker or replica starting at the same moment created it first.
        return
    if created is not None:
        logger.info("Created the first admin %s from CRM_BOOTSTRAP_ADMIN_EMAIL.", created.email)
