"""Webhooks: managing them, their deliveries, and the delivery worker."""

from __future__ import annotations

from dependency_injector import providers

from adapters.webhooks.metrics import count_outcome
from adapters.webhooks.sender import HttpWebhookSender
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
from crm.use_cases.access import AccessUseCases
from crm.use_cases.shared import Shared

# Providers of the parts this one builds on, under their own names.
adapters = Shared.adapters
clock = Shared.clock
ids = Shared.ids
settings = Shared.settings


class IntegrationUseCases(AccessUseCases):
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
