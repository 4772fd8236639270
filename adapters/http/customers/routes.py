"""/api/v1/customers: the shop's customers, for every signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Annotated, Any, Self

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED

from adapters.http.access.authentication import SECURITY_WITH_API_KEYS
from adapters.http.common.conditional import etag_of, parse_entity_tags
from adapters.http.common.idempotency import IdempotencyKey, answer_once
from adapters.http.common.pages import PageCursor, PageLimit, next_link
from adapters.http.customers.schemas import (
    CustomerChangeOut,
    CustomerCreate,
    CustomerHistoryPage,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
)
from adapters.http.openapi.operations import responses
from application.customers.editing import CreateCustomer, DeleteCustomer, NewCustomer, UpdateCustomer
from application.customers.erasure import EraseCustomer
from application.customers.history import ListCustomerHistory
from application.customers.photos import LinkPhotos
from application.customers.reading import GetCustomer, ListCustomers
from application.idempotency import IdempotentRequests
from domain.customers import Customer
from domain.sign_in import Actor

IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="Only if the customer still has this ETag.")
]
SORT_DESCRIPTION = "name, surname, created_at, updated_at or id; prefix with - for descending."


@dataclass(frozen=True, slots=True)
class CustomerUseCases:
    """The use cases of the busiest handlers, handed to the app once (in its state) instead of being
    resolved as dependencies on every request: each dependency costs Litestar a step, and several at once
    a task group. Providers, not instances: use cases are built at the first request (after the lifespan
    has chosen the photo storage)."""

    get_customer: Callable[[], GetCustomer]
    list_customers: Callable[[], ListCustomers]
    create_customer: Callable[[], CreateCustomer]
    update_customer: Callable[[], UpdateCustomer]
    link_photos: Callable[[], LinkPhotos]
    idempotent_requests: Callable[[], IdempotentRequests]

    STATE_KEY = "crm.customer_use_cases"

    @classmethod
    def pick(cls, provided: Callable[[str], Callable[[], Any]]) -> Self:
        return cls(**{field.name: provided(field.name) for field in fields(cls)})

    @classmethod
    def of(cls, request: Request[Any, Any, Any]) -> CustomerUseCases:
        use_cases: CustomerUseCases = request.app.state[cls.STATE_KEY]
        return use_cases


async def present_customer(customer: Customer, link_photos: LinkPhotos) -> CustomerOut:
    if customer.photo is None:
        # Nothing to link (most customers on a page): skip a coroutine per item.
        return CustomerOut.of(customer)
    links = await link_photos.execute(customer)
    return CustomerOut.of(customer, links.photo_url, links.thumbnail_url)


class CustomersController(Controller):
    path = "/api/v1/customers"
    tags = ["Customers"]
    security = SECURITY_WITH_API_KEYS

    @get(responses=responses(400, 401, 422), summary="List customers")
    async def list_customers(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        limit: PageLimit = 20,
        cursor: PageCursor = None,
        q: Annotated[
            str | None, QueryParameter(name="q", max_length=200, description="Search id, name, surname and e-mail.")
        ] = None,
        sort: Annotated[str, QueryParameter(name="sort", max_length=20, description=SORT_DESCRIPTION)] = "-created_at",
    ) -> Response[CustomerPage]:
        use_cases = CustomerUseCases.of(request)
        page = await use_cases.list_customers().execute(actor, limit=limit, cursor=cursor, search=q, sort=sort)
        link_photos = use_cases.link_photos()
        # Most customers have no photo: no coroutine for them (one per item is a tenth of a page's mapping).
        items = [
            CustomerOut.of(customer) if customer.photo is None else await present_customer(customer, link_photos)
            for customer in page.items
        ]
        body = CustomerPage(items, page.next_cursor)
        return Response(body, headers=next_link(request, page.next_cursor))

    @post(status_code=HTTP_201_CREATED, responses=responses(400, 401, 409, 415, 422), summary="Create a customer")
    async def create_customer(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CustomerCreate],
        actor: NamedDependency[Actor],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CustomerOut]:
        use_cases = CustomerUseCases.of(request)

        async def create() -> Response[CustomerOut]:
            customer = await use_cases.create_customer().execute(
                actor, NewCustomer(data.id, data.name, data.surname, data.email, data.phone, data.notes)
            )
            headers = {"Location": f"{self.path}/{customer.id}", "ETag": etag_of(customer)}
            body = await present_customer(customer, use_cases.link_photos())
            return Response(body, status_code=HTTP_201_CREATED, headers=headers)

        return await answer_once(request, actor, idempotency_key, use_cases.idempotent_requests(), create)

    @get("/{customer_id:str}", responses=responses(401, 404, 304), summary="Get a customer")
    async def get_customer(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[str],
        actor: NamedDependency[Actor],
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
    ) -> Response[CustomerOut | None]:
        use_cases = CustomerUseCases.of(request)
        customer = await use_cases.get_customer().execute(actor, customer_id)
        etag = etag_of(customer)
        known = parse_entity_tags(if_none_match)
        if known is not None and (customer.revision in known or "*" in known):
            return Response(None, status_code=HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(await present_customer(customer, use_cases.link_photos()), headers={"ETag": etag})

    @patch(
        "/{customer_id:str}",
        status_code=HTTP_200_OK,
        responses=responses(400, 401, 404, 412, 415, 422),
        summary="Change a customer (JSON merge patch)",
    )
    async def update_customer(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[str],
        data: JSONBody[CustomerPatch],
        actor: NamedDependency[Actor],
        if_match: IfMatch = None,
    ) -> Response[CustomerOut]:
        use_cases = CustomerUseCases.of(request)
        customer = await use_cases.update_customer().execute(
            actor, customer_id, data.present(), parse_entity_tags(if_match)
        )
        body = await present_customer(customer, use_cases.link_photos())
        return Response(body, headers={"ETag": etag_of(customer)})

    @delete(
        "/{customer_id:str}",
        status_code=HTTP_204_NO_CONTENT,
        responses=responses(400, 401, 403, 404, 412),
        summary="Move a customer to the trash, or (admins, erase=true) erase it for good",
        description=(
            "Without erase: the customer goes to the trash, from where it can be restored until the trash period"
            " ends. With erase=true (admins only): the customer, live or in the trash, its photo and every personal"
            " value in its history are removed at once; the history keeps one erased entry."
        ),
    )
    async def delete_customer(
        self,
        customer_id: FromPath[str],
        actor: NamedDependency[Actor],
        delete_customer: NamedDependency[DeleteCustomer],
        erase_customer: NamedDependency[EraseCustomer],
        if_match: IfMatch = None,
        erase: Annotated[bool, QueryParameter(name="erase", description="Erase for good (admins).")] = False,
    ) -> None:
        expected = parse_entity_tags(if_match)
        if erase:
            await erase_customer.execute(actor, customer_id, expected)
        else:
            await delete_customer.execute(actor, customer_id, expected)

    @get(
        "/{customer_id:str}/history",
        responses=responses(400, 401, 404, 422),
        summary="A customer's change history, newest first",
        description=(
            "Who changed the customer, when, and how: created, updated (each changed field with its old and new"
            " value), photo_changed (the field photo, null or present) and deleted. The history of a deleted"
            " customer stays readable; an id that never had a customer is not found."
        ),
    )
    async def customer_history(
        self,
        request: Request[Any, Any, Any],
        customer_id: FromPath[str],
        actor: NamedDependency[Actor],
        list_customer_history: NamedDependency[ListCustomerHistory],
        limit: PageLimit = 20,
        cursor: PageCursor = None,
    ) -> Response[CustomerHistoryPage]:
        page = await list_customer_history.execute(actor, customer_id, limit=limit, cursor=cursor)
        body = CustomerHistoryPage([CustomerChangeOut.of(change) for change in page.items], page.next_cursor)
        return Response(body, headers=next_link(request, page.next_cursor))
