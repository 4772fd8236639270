"""/api/v1/api-keys: admins make the keys that scripts and other systems use on customers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.http.access.api_key_schemas import ApiKeyCreate, ApiKeyOut, ApiKeyPage, ApiKeyWithSecret
from adapters.http.access.authentication import SECURITY
from adapters.http.common.idempotency import IdempotencyKey, answer_once
from adapters.http.common.pages import PageCursor, PageLimit, next_link
from adapters.http.openapi.operations import responses
from application.access.api_keys import CreateApiKey, DeleteApiKey, ListApiKeys, NewApiKey
from application.idempotency import IdempotentRequests
from domain.sign_in import Actor


class ApiKeysController(Controller):
    path = "/api/v1/api-keys"
    tags = ["API keys"]
    security = SECURITY

    @post(
        status_code=HTTP_201_CREATED,
        responses=responses(400, 401, 403, 409, 415, 422),
        summary="Make an API key (admins); the answer holds the key itself, shown only here",
    )
    async def create_api_key(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ApiKeyCreate],
        actor: NamedDependency[Actor],
        create_api_key: NamedDependency[CreateApiKey],
        idempotent_requests: NamedDependency[IdempotentRequests],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ApiKeyWithSecret]:
        async def create() -> Response[ApiKeyWithSecret]:
            issued = await create_api_key.execute(actor, NewApiKey(data.name, data.scopes, data.expires_at))
            return Response(
                ApiKeyWithSecret.issued(issued),
                status_code=HTTP_201_CREATED,
                # Like every answer under /api/, this one carries Cache-Control: no-store (response_headers.py).
                headers={"Location": f"{self.path}/{issued.api_key.id}"},
            )

        return await answer_once(request, actor, idempotency_key, idempotent_requests, create)

    @get(responses=responses(400, 401, 403, 422), summary="List API keys (admins); never the keys themselves")
    async def list_api_keys(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        list_api_keys: NamedDependency[ListApiKeys],
        limit: PageLimit = 20,
        cursor: PageCursor = None,
    ) -> Response[ApiKeyPage]:
        page = await list_api_keys.execute(actor, limit=limit, cursor=cursor)
        body = ApiKeyPage([ApiKeyOut.of(key) for key in page.items], page.next_cursor)
        return Response(body, headers=next_link(request, page.next_cursor))

    @delete(
        "/{api_key_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        responses=responses(401, 403, 404),
        summary="Delete an API key: it stops working at once, on every replica",
    )
    async def delete_api_key(
        self, api_key_id: FromPath[UUID], actor: NamedDependency[Actor], delete_api_key: NamedDependency[DeleteApiKey]
    ) -> None:
        await delete_api_key.execute(actor, str(api_key_id))
