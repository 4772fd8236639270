"""/api/v1/webhooks: admins register the endpoints that hear about changes, and follow their deliveries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from adapters.http.access.authentication import SECURITY
from adapters.http.common.idempotency import IdempotencyKey, answer_once
from adapters.http.common.pages import PageCursor, PageLimit, next_link
from adapters.http.integrations.webhook_schemas import (
    Accepted,
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
    WebhookWithSecret,
)
from adapters.http.openapi.operations import responses
from application.idempotency import IdempotentRequests
from application.integrations.delivery_log import ListWebhookDeliveries, RetryWebhookDelivery, SendTestEvent
from application.integrations.webhooks import (
    CreateWebhook,
    DeleteWebhook,
    GetWebhook,
    ListWebhooks,
    NewWebhook,
    RotateWebhookSecret,
    UpdateWebhook,
)
from domain.sign_in import Actor


class WebhooksController(Controller):
    path = "/api/v1/webhooks"
    tags = ["Webhooks"]
    security = SECURITY

    @post(
        status_code=HTTP_201_CREATED,
        responses=responses(400, 401, 403, 415, 422),
        summary="Register a webhook (admins); the answer holds its signing secret, shown only here",
    )
    async def create_webhook(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[WebhookCreate],
        actor: NamedDependency[Actor],
        create_webhook: NamedDependency[CreateWebhook],
        idempotent_requests: NamedDependency[IdempotentRequests],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[WebhookWithSecret]:
        async def create() -> Response[WebhookWithSecret]:
            webhook = await create_webhook.execute(actor, NewWebhook(data.url, data.events, data.description))
            return Response(
                WebhookWithSecret.with_secret(webhook),
                status_code=HTTP_201_CREATED,
                headers={"Location": f"{self.path}/{webhook.id}"},
            )

        return await answer_once(request, actor, idempotency_key, idempotent_requests, create)

    @get(responses=responses(400, 401, 403, 422), summary="List webhooks (admins)")
    async def list_webhooks(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        list_webhooks: NamedDependency[ListWebhooks],
        limit: PageLimit = 20,
        cursor: PageCursor = None,
    ) -> Response[WebhookPage]:
        page = await list_webhooks.execute(actor, limit=limit, cursor=cursor)
        body = WebhookPage([WebhookOut.of(webhook) for webhook in page.items], page.next_cursor)
        return Response(body, headers=next_link(request, page.next_cursor))

    @get("/{webhook_id:uuid}", responses=responses(401, 403, 404), summary="Get a webhook")
    async def get_webhook(
        self, webhook_id: FromPath[UUID], actor: NamedDependency[Actor], get_webhook: NamedDependency[GetWebhook]
    ) -> WebhookOut:
        return WebhookOut.of(await get_webhook.execute(actor, str(webhook_id)))

    @patch(
        "/{webhook_id:uuid}",
        responses=responses(400, 401, 403, 404, 415, 422),
        summary="Change a webhook's url, events, description or active flag",
    )
    async def update_webhook(
        self,
        webhook_id: FromPath[UUID],
        data: JSONBody[WebhookPatch],
        actor: NamedDependency[Actor],
        update_webhook: NamedDependency[UpdateWebhook],
    ) -> WebhookOut:
        return WebhookOut.of(await update_webhook.execute(actor, str(webhook_id), data.present()))

    @delete(
        "/{webhook_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        responses=responses(401, 403, 404),
        summary="Delete a webhook and its deliveries",
    )
    async def delete_webhook(
        self, webhook_id: FromPath[UUID], actor: NamedDependency[Actor], delete_webhook: NamedDependency[DeleteWebhook]
    ) -> None:
        await delete_webhook.execute(actor, str(webhook_id))

    @post(
        "/{webhook_id:uuid}/rotate-secret",
        status_code=HTTP_200_OK,
        responses=responses(401, 403, 404),
        summary="A new signing secret; the old one keeps signing alongside for 24 hours",
    )
    async def rotate_webhook_secret(
        self,
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rotate_webhook_secret: NamedDependency[RotateWebhookSecret],
    ) -> WebhookWithSecret:
        return WebhookWithSecret.with_secret(await rotate_webhook_secret.execute(actor, str(webhook_id)))

    @post(
        "/{webhook_id:uuid}/test",
        status_code=HTTP_202_ACCEPTED,
        responses=responses(401, 403, 404),
        summary="Send a webhook.test event to this webhook",
    )
    async def test_webhook(
        self,
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        send_test_event: NamedDependency[SendTestEvent],
    ) -> Accepted:
        await send_test_event.execute(actor, str(webhook_id))
        return Accepted("queued")

    @get(
        "/{webhook_id:uuid}/deliveries",
        responses=responses(400, 401, 403, 404, 422),
        summary="The webhook's deliveries, newest first",
    )
    async def list_webhook_deliveries(
        self,
        request: Request[Any, Any, Any],
        webhook_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        list_webhook_deliveries: NamedDependency[ListWebhookDeliveries],
        limit: PageLimit = 20,
        cursor: PageCursor = None,
    ) -> Response[DeliveryPage]:
        page = await list_webhook_deliveries.execute(actor, str(webhook_id), limit=limit, cursor=cursor)
        body = DeliveryPage([DeliveryOut.of(delivery) for delivery in page.items], page.next_cursor)
        return Response(body, headers=next_link(request, page.next_cursor))

    @post(
        "/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/retry",
        status_code=HTTP_202_ACCEPTED,
        responses=responses(401, 403, 404),
        summary="Send a delivery again now",
    )
    async def retry_webhook_delivery(
        self,
        webhook_id: FromPath[UUID],
        delivery_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        retry_webhook_delivery: NamedDependency[RetryWebhookDelivery],
    ) -> Accepted:
        await retry_webhook_delivery.execute(actor, str(webhook_id), str(delivery_id))
        return Accepted("queued")
