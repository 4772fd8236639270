"""A customer's photo: upload, replace, remove, and the links an ``<img>`` tag can load.

The row and the stored objects live in different systems, so the order of steps keeps them
consistent: new objects are written first, then the row is committed, then the objects no row
points at any more are deleted. A failure at any step leaves at worst an unreferenced object,
which the orphan sweep removes; never a customer pointing at a missing object.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from application.access.authorization import may_write_customers
from application.customers.details import discard_objects, get_customer_for_change
from application.customers.photo_rules import new_photo
from application.ports.persistence import UnitOfWorkFactory
from application.ports.photos import ImageProcessor, PhotoStorage
from application.ports.system import Clock
from domain.customer_history import CustomerChange
from domain.customers import Customer
from domain.sign_in import Actor


@dataclass(frozen=True, slots=True)
class PhotoLinks:
    photo_url: str | None
    thumbnail_url: str | None


class LinkPhotos:
    """Short-lived URLs for a customer's photo and thumbnail."""

    def __init__(self, storage: PhotoStorage) -> None:
        self._storage = storage

    async def execute(self, customer: Customer) -> PhotoLinks:
        photo = customer.photo
        if photo is None:
            return PhotoLinks(None, None)
        return PhotoLinks(
            await self._storage.url_for(photo.key, photo.content_type),
            await self._storage.url_for(photo.thumbnail_key, photo.content_type),
        )


class UploadCustomerPhoto:
    """Any signed-in user sets or replaces a customer's photo. The image is checked and made safe
    (re-encoded, oriented, metadata removed) and gets a thumbnail; the old photo's objects go."""

    def __init__(self, uow: UnitOfWorkFactory, images: ImageProcessor, storage: PhotoStorage, clock: Clock) -> None:
        self._uow = uow
        self._images = images
        self._storage = storage
        self._clock = clock

    async def execute(self, actor: Actor, customer_id: str, data: bytes) -> Customer:
        may_write_customers(actor)
        async with self._uow.for_reading() as uow:
            await get_customer_for_change(uow, customer_id)  # 404 before any image work
        prepared = await self._images.prepare(data)
        photo = new_photo(prepared.content_type)
        try:
            await self._storage.put(photo.key, prepared.image, prepared.content_type)
            await self._storage.put(photo.thumbnail_key, prepared.thumbnail, prepared.content_type)
            async with self._uow() as uow:
                customer = await get_customer_for_change(uow, customer_id, lock=True)
                previous = customer.replace_photo(photo, by=actor.ref, at=self._clock.now())
                await uow.customers.update(customer)
                await uow.customer_history.record(CustomerChange.photo_changed(customer, previous))
                await uow.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await discard_objects(self._storage, photo)
            raise
        await discard_objects(self._storage, previous)
        return customer


class RemoveCustomerPhoto:
    def __init__(self, uow: UnitOfWorkFactory, storage: PhotoStorage, clock: Clock) -> None:
        self._uow = uow
        self._storage = storage
        self._clock = clock

    async def execute(self, actor: Actor, customer_id: str) -> Customer:
        may_write_customers(actor)
        async with self._uow() as uow:
            customer = await get_customer_for_change(uow, customer_id, lock=True)
            previous = customer.photo
            if previous is not None:
                customer.replace_photo(None, by=actor.ref, at=self._clock.now())
                await uow.customers.update(customer)
                await uow.customer_history.record(CustomerChange.photo_changed(customer, previous))
                await uow.commit()
        await discard_objects(self._storage, previous)
        return customer
