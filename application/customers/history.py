"""Reading a customer's change history, newest first, in keyset pages.

Every signed-in user may read it, as they may read the customer. The history of a deleted customer
stays readable (it ends with who deleted it, and when); an id that never had a customer has no
history and is not found.
"""

from __future__ import annotations

from datetime import datetime

from application.access.authorization import may_read_customers
from application.customers.details import CUSTOMER_NOT_FOUND, parse_customer_id
from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports.persistence import UnitOfWorkFactory
from domain.customer_history import CustomerChange
from domain.errors import MalformedRequest, NotFound
from domain.sign_in import Actor
from domain.values import CustomerId


class ListCustomerHistory:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def execute(
        self, actor: Actor, customer_id: str, *, limit: int, cursor: str | None = None
    ) -> Page[CustomerChange]:
        may_read_customers(actor)
        check_limit(limit)
        customer = parse_customer_id(customer_id)
        after = _decode_position(cursor, customer) if cursor is not None else None
        async with self._uow.for_reading() as uow:
            changes = await uow.customer_history.list(customer, limit + 1, after)
        if not changes and after is None:
            raise NotFound(CUSTOMER_NOT_FOUND)
        return page_of(changes, limit, lambda last: (customer, last.at.isoformat(), str(last.id)))


def _decode_position(cursor: str, customer_id: CustomerId) -> tuple[datetime, int]:
    cursor_customer, at, change_id = decode_cursor(cursor, 3)
    if cursor_customer != customer_id:
        raise MalformedRequest("The cursor belongs to another customer's history.")
    try:
        position = datetime.fromisoformat(at), int(change_id)
    except ValueError as error:
        raise MalformedRequest("The cursor is not valid.") from error
    # Ids are positive 64-bit integers (bigserial); anything else was never issued.
    if position[0].tzinfo is None or not 0 < position[1] < 2**63:
        raise MalformedRequest("The cursor is not valid.")
    return position
