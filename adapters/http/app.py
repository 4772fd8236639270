"""Assembles the Litestar application from controllers and what the composition root provides."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, Request
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins import PluginProtocol
from litestar.plugins.prometheus import PrometheusController

from adapters.http.access.api_keys import ApiKeysController
from adapters.http.access.authentication import actor_dependency
from adapters.http.access.sign_in import AuthController
from adapters.http.access.users import UsersController
from adapters.http.common.schemas import Strict
from adapters.http.common.strict_json import StrictJSONRequest
from adapters.http.customers.changes import CustomerChangesController
from adapters.http.customers.files import CustomerFilesController
from adapters.http.customers.photos import CustomerPhotoController, serve_local_photo
from adapters.http.customers.routes import CustomersController, CustomerUseCases
from adapters.http.customers.trash import CustomerTrashController
from adapters.http.edge.allowed_methods import methods_by_path
from adapters.http.edge.fair_use import FairUse, refuse_over_quota
from adapters.http.edge.middleware import Edge
from adapters.http.edge.problems import EXCEPTION_HANDLERS
from adapters.http.edge.request_checks import check_request_shape
from adapters.http.edge.response_headers import ASGIApp
from adapters.http.health import HealthController, Readiness
from adapters.http.integrations.webhooks import WebhooksController
from adapters.http.openapi.docs_page import OfflineSwaggerUI
from adapters.http.openapi.document import complete_document
from adapters.http.openapi.operations import operation_id, security_components

API_VERSION = "1.0.0"
JSON_BODY_LIMIT = 1024 * 1024

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def _provider(make: Callable[[], Any]) -> Provide:
    # Litestar inspects a provider's signature; a plain closure keeps the DI container out of its sight.
    def provide() -> Any:
        return make()

    return Provide(provide, sync_to_thread=False)


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def create_http_app(
    *,
    provided: Mapping[str, Callable[[], Any]],
    readiness: Readiness,
    cors_origins: Sequence[str] = (),
    lifespan: Sequence[Lifespan] = (),
    serve_local_photos: bool = False,
    plugins: Sequence[PluginProtocol] = (),
    fair_use: FairUse | None = None,
) -> tuple[Litestar, ASGIApp]:
    """The Litestar app, and the ASGI callable to serve (the app inside the edge layer).

    ``provided`` maps names (``create_customer``…) to functions returning the object, e.g. a use case:
    handlers ask for them by parameter name. It must provide ``authenticate`` and the ``CustomerUseCases``,
    and with ``serve_local_photos``, ``local_photos`` too. ``fair_use`` counts requests under /api/v1 (None: not).
    """
    dependencies = {name: _provider(make) for name, make in provided.items()}
    dependencies["actor"] = actor_dependency(provided["authenticate"])
    dependencies["readiness"] = Provide(lambda: readiness, sync_to_thread=False)
    app = Litestar(
        route_handlers=[
            AuthController,
            UsersController,
            CustomerTrashController,
            CustomerChangesController,
            CustomerFilesController,
            CustomersController,
            CustomerPhotoController,
            WebhooksController,
            ApiKeysController,
            HealthController,
            MetricsController,
            *([serve_local_photo] if serve_local_photos else []),
        ],
        dependencies=dependencies,
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=_before_handler,
        cors_config=CORSConfig(
            allow_origins=list(cors_origins),
            allow_credentials=False,
            expose_headers=["ETag", "Location", "Link", "X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy"],
        )
        if cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="CRM Service",
            version=API_VERSION,
            description="REST API of the CRM: customers with photos, users and admins, OAuth 2.0 sign-in.",
            path="/docs",
            render_plugins=[OfflineSwaggerUI(path="/")],
            components=security_components("/api/v1/auth/token"),
            operation_id_creator=operation_id,
        ),
        request_max_body_size=JSON_BODY_LIMIT,
        request_class=StrictJSONRequest,
        plugins=list(plugins),
        lifespan=list(lifespan),
        state=State({CustomerUseCases.STATE_KEY: CustomerUseCases.pick(provided.__getitem__)}),
        debug=False,
        # The process's logging is configured once by the composition root (crm/asgi.py).
        logging_config=None,
    )
    complete_document(app.openapi_schema, (body.__name__ for body in Strict.__subclasses__()))
    # Headers, request ids, access lines and request metrics: one ASGI layer (adapters/http/edge/middleware.py).
    return app, Edge(app, methods_by_path(app.routes), fair_use)


async def _before_handler(request: Request[Any, Any, Any]) -> None:
    # A request refused for fair use ends first: nothing, not even its checks, is done for it.
    refuse_over_quota(request)
    await check_request_shape(request)
