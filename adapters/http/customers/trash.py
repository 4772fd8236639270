"""/api/v1/customers/trash and /restore: deleted customers, and bringing one back."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from adapters.http.access.authentication import SECURITY_WITH_API_KEYS
from adapters.http.common.conditional import etag_of
from adapters.http.common.pages import PageCursor, PageLimit, next_link
from adapters.http.common.schemas import UserRefOut
from adapters.http.customers.file_schemas import TrashedCustomerOut, TrashPage
from adapters.http.customers.routes import present_customer
from adapters.http.customers.schemas import CustomerOut
from adapters.http.openapi.operations import responses
from application.customers.photos import LinkPhotos
from application.customers.trash import ListTrash, RestoreCustomer
from domain.customers import TrashedCustomer
from domain.sign_in import Actor


async def present_trashed(trashed: TrashedCustomer, link_photos: LinkPhotos) -> TrashedCustomerOut:
    live = await present_customer(trashed.customer, link_photos)
    return TrashedCustomerOut(
        **{field: getattr(live, field) for field in CustomerOut.__struct_fields__},
        deleted_at=trashed.deleted_at,
        deleted_by=UserRefOut.of(trashed.deleted_by),
    )


class CustomerTrashController(Controller):
    path = "/api/v1/customers"
    tags = ["Customers"]
    security = SECURITY_WITH_API_KEYS

    @get(
        "/trash",
        responses=responses(400, 401, 422),
        summary="List the trash, most recently deleted first",
    )
    async def list_trash(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        list_trash: NamedDependency[ListTrash],
        link_photos: NamedDependency[LinkPhotos],
        limit: PageLimit = 20,
        cursor: PageCursor = None,
    ) -> Response[TrashPage]:
        page = await list_trash.execute(actor, limit=limit, cursor=cursor)
        body = TrashPage([await present_trashed(trashed, link_photos) for trashed in page.items], page.next_cursor)
        return Response(body, headers=next_link(request, page.next_cursor))

    @post(
        "/{customer_id:str}/restore",
        status_code=HTTP_200_OK,
        responses=responses(401, 404),
        summary="Restore a customer from the trash",
    )
    async def restore_customer(
        self,
        customer_id: FromPath[str],
        actor: NamedDependency[Actor],
        restore_customer: NamedDependency[RestoreCustomer],
        link_photos: NamedDependency[LinkPhotos],
    ) -> Response[CustomerOut]:
        customer = await restore_customer.execute(actor, customer_id)
        return Response(await present_customer(customer, link_photos), headers={"ETag": etag_of(customer)})
