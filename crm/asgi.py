"""Entry point for ASGI servers: ``crm.asgi:create_app`` as a factory."""

from crm.app import create_app

__all__ = ["create_app"]
