"""The in-memory fake's own features: failures on demand, like a real store's."""

from __future__ import annotations

import pytest

from adapters.photos.memory import InMemoryPhotoStorage
from application.customers.photo_rules import JPEG, new_photo_keys
from domain.errors import ServiceUnavailable


async def test_fail_next_fails_that_operation_once_and_changes_nothing() -> None:
    storage = InMemoryPhotoStorage()
    key, thumbnail_key = new_photo_keys()
    storage.fail_next("put")

    with pytest.raises(ServiceUnavailable):
        await storage.put(key, b"x", JPEG)
    await storage.put(thumbnail_key, b"y", JPEG)

    assert storage.keys == {thumbnail_key}


async def test_fail_next_can_fail_several_times() -> None:
    storage = InMemoryPhotoStorage()
    key, _ = new_photo_keys()
    await storage.put(key, b"x", JPEG)
    storage.fail_next("delete", times=2)

    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            await storage.delete([key])
    assert storage.keys == {key}
    await storage.delete([key])
    assert storage.keys == set()


async def test_unknown_operations_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        InMemoryPhotoStorage().fail_next("upload")


async def test_urls_show_only_the_stored_type() -> None:
    storage = InMemoryPhotoStorage()
    key, _ = new_photo_keys()
    await storage.put(key, b"x", JPEG)

    url = await storage.url_for(key, JPEG)

    found = storage.object_at(url)
    assert found is not None
    assert found.data == b"x"
    assert storage.object_at(url.replace("jpeg", "png")) is None
