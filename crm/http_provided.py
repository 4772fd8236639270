"""What HTTP handlers may ask for: the application container's objects, under their providers' names."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers

from crm.container import Application


def http_provided(container: Application) -> dict[str, providers.Provider[Any]]:
    """What HTTP handlers may ask for by parameter name: every object the application container builds
    once (the use cases, the photo limits, the client addresses…), under its provider's name."""
    return {
        name: provider for name, provider in container.providers.items() if isinstance(provider, providers.Singleton)
    }
