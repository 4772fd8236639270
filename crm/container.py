"""The application container: the use cases, and which adapters they are built on.

``Application`` joins the use cases of every part of the CRM (``crm.use_cases``: shared, access, customers,
integrations), so that each provider keeps one name for handlers and tests; it takes its driven adapters from a
``DependenciesContainer`` that is either ``DatabaseAdapters`` (PostgreSQL, the production profile) or
``InMemoryAdapters`` (fast tests, and a proof that the core does not care); both are in ``crm.adapter_containers``.
"""

from __future__ import annotations

from dependency_injector import providers

from adapters.photos.memory import InMemoryPhotoStorage
from crm.adapter_containers import DatabaseAdapters, InMemoryAdapters
from crm.settings import Settings
from crm.use_cases.customers import CustomerUseCases
from crm.use_cases.integrations import IntegrationUseCases


class Application(CustomerUseCases, IntegrationUseCases):
    """Every use case of the service, under the names ``crm.http_provided`` hands to the handlers."""


def build_container(settings: Settings, *, in_memory: bool = False) -> Application:
    """The production profile (PostgreSQL), or with ``in_memory`` the in-memory profile."""
    if in_memory:
        container = Application(settings=settings, adapters=InMemoryAdapters(settings=settings))
        container.photo_storage.override(providers.Singleton(InMemoryPhotoStorage, clock=container.clock))
        return container
    return Application(settings=settings, adapters=DatabaseAdapters(settings=settings))
