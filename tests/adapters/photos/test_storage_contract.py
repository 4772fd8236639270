"""One contract for every photo storage: in memory, local folder, S3 (moto over HTTP; MinIO with Docker)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from application.customers.photo_rules import JPEG, PNG, new_photo_keys
from domain.errors import ServiceUnavailable

from . import samples
from .support import Backend

IMAGE = samples.encode(samples.two_colour((40, 30)), "JPEG")
THUMBNAIL = samples.encode(samples.two_colour((20, 15)), "JPEG")


async def stored_keys(backend: Backend, prefix: str = "") -> set[str]:
    return {item.key async for item in backend.storage.list_keys(prefix)}


async def test_a_stored_photo_is_shown_by_its_url(backend: Backend) -> None:
    key, thumbnail_key = new_photo_keys()
    await backend.storage.put(key, IMAGE, JPEG)
    await backend.storage.put(thumbnail_key, THUMBNAIL, JPEG)

    image = await backend.fetch(await backend.storage.url_for(key, JPEG))
    thumbnail = await backend.fetch(await backend.storage.url_for(thumbnail_key, JPEG))

    assert (image.status, image.body, image.content_type) == (200, IMAGE, JPEG)
    assert (thumbnail.status, thumbnail.body, thumbnail.content_type) == (200, THUMBNAIL, JPEG)


async def test_the_url_serves_the_stored_content_type(backend: Backend) -> None:
    key, _ = new_photo_keys()
    png = samples.encode(samples.two_colour((10, 10)), "PNG")
    await backend.storage.put(key, png, PNG)

    fetched = await backend.fetch(await backend.storage.url_for(key, PNG))

    assert (fetched.status, fetched.content_type) == (200, PNG)


async def test_deleted_objects_are_gone(backend: Backend) -> None:
    key, thumbnail_key = new_photo_keys()
    kept, _ = new_photo_keys()
    for each in (key, thumbnail_key, kept):
        await backend.storage.put(each, IMAGE, JPEG)
    url = await backend.storage.url_for(key, JPEG)

    await backend.storage.delete([key, thumbnail_key])

    assert await stored_keys(backend) == {kept}
    assert (await backend.fetch(url)).status in (403, 404)


async def test_deleting_missing_objects_is_fine(backend: Backend) -> None:
    await backend.storage.delete(list(new_photo_keys()))
    await backend.storage.delete([])

    assert await stored_keys(backend) == set()


async def test_keys_are_listed_by_prefix_with_their_time(backend: Backend) -> None:
    before = datetime.now(UTC) - timedelta(minutes=2)  # S3 stores whole seconds; clocks differ a little
    photos = set(new_photo_keys())
    for each in photos:
        await backend.storage.put(each, IMAGE, JPEG)
    await backend.storage.put("other/thing", IMAGE, JPEG)

    listed = [item async for item in backend.storage.list_keys("photos/")]

    assert {item.key for item in listed} == photos
    for item in listed:
        assert item.last_modified.tzinfo is not None
        assert before <= item.last_modified <= datetime.now(UTC) + timedelta(minutes=2)
    assert await stored_keys(backend) == photos | {"other/thing"}


async def test_a_working_store_is_ready(backend: Backend) -> None:
    await backend.storage.check()


async def test_only_photo_content_types_are_stored_or_signed(backend: Backend) -> None:
    key, _ = new_photo_keys()
    with pytest.raises(ValueError, match="content type"):
        await backend.storage.put(key, b"<html></html>", "text/html")
    with pytest.raises(ValueError, match="content type"):
        await backend.storage.url_for(key, "text/html")
    assert await stored_keys(backend) == set()


async def test_a_broken_store_answers_service_unavailable_quickly(backend: Backend) -> None:
    key, _ = new_photo_keys()
    async with backend.broken() as down:
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable):
            await down.check()
        with pytest.raises(ServiceUnavailable):
            await down.put(key, IMAGE, JPEG)
        with pytest.raises(ServiceUnavailable):
            await down.delete([key])
        with pytest.raises(ServiceUnavailable):
            _ = [item async for item in down.list_keys()]
        elapsed = time.perf_counter() - started

    assert elapsed < 10, f"{backend.name}: {elapsed:.1f} s to give up"
    assert await stored_keys(backend) == set()
