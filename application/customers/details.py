"""What the customer use cases share: parsing a customer's details and id, finding it for a change, and
discarding a photo's objects."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from application.customers.photo_rules import photo_keys
from application.ports.persistence import UnitOfWork
from application.ports.photos import PhotoStorage
from application.validation import Problems
from domain.customers import Customer, CustomerDetails, Photo
from domain.errors import (
    InvalidInput,
    NotFound,
    ServiceUnavailable,
)
from domain.values import CustomerId, Email, Notes, PersonName, Phone

logger = logging.getLogger(__name__)

CUSTOMER_NOT_FOUND = "No such customer."
ID_IN_TRASH = "A customer with this id is in the trash: restore it, or erase it to free the id."
_OPTIONAL_PARSERS = {"email": Email, "phone": Phone, "notes": Notes}


def parse_details(values: Mapping[str, str | None]) -> CustomerDetails:
    """Validate every editable field at once; name and surname are required, the rest optional."""
    problems = Problems()
    parsed: dict[str, Any] = {}
    for field in ("name", "surname"):
        value = values.get(field)
        if value is None:
            problems.add(field, "is required")
        else:
            parsed[field] = problems.parse(PersonName, value, field)
    for field, parser in _OPTIONAL_PARSERS.items():
        value = values.get(field)
        parsed[field] = None if value is None else problems.parse(parser, value, field)
    problems.raise_if_any()
    return CustomerDetails(**parsed)


def parse_customer_id(value: str) -> CustomerId:
    try:
        return CustomerId(value)
    except InvalidInput as error:
        # A malformed id in a URL names no customer; do not reveal the rule there.
        raise NotFound(CUSTOMER_NOT_FOUND) from error


async def get_customer_for_change(uow: UnitOfWork, customer_id: str, *, lock: bool = False) -> Customer:
    """The customer, locked until commit when ``lock``; ``NotFound`` if there is none."""
    customer = await uow.customers.get(parse_customer_id(customer_id), for_update=lock)
    if customer is None:
        raise NotFound(CUSTOMER_NOT_FOUND)
    return customer


async def discard_objects(storage: PhotoStorage, photo: Photo | None) -> None:
    """Delete a photo's objects, best effort: what fails here is left for the orphan sweep."""
    if photo is None:
        return
    try:
        await storage.delete(photo_keys(photo))
    except ServiceUnavailable:
        logger.warning("Could not delete photo objects %s; the orphan sweep will.", photo_keys(photo))
