"""Entry point for ASGI servers: ``crm.asgi:create_app`` as a factory, in each worker process."""

from __future__ import annotations

from adapters.http.edge.response_headers import ASGIApp
from adapters.observability.structured_logging import configure_logging
from crm import app
from crm.settings import Settings


def create_app() -> ASGIApp:
    settings = Settings.from_environment()
    configure_logging(settings.log_level, settings.log_format)
    return app.create_app(settings)
