"""What only the S3 adapter does: presigned URLs, the prefix, and a store that refuses or is down.

Runs against moto's S3 server over HTTP. moto does not check presigned signatures or their expiry,
so the URL's parameters are checked here as text; the signing itself is botocore's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.photos.s3 import S3PhotoStorage, open_s3_client
from application.customers.photo_rules import JPEG, WEBP, new_photo_keys
from domain.errors import ServiceUnavailable

from . import samples
from .support import REGION, Backend, S3Clients, S3Endpoint, closed_port, fetch_http, s3_backend

IMAGE = samples.encode(samples.two_colour((40, 30)), "WEBP")


@pytest.fixture
async def s3(moto_endpoint: S3Endpoint, s3_clients: S3Clients) -> AsyncIterator[Backend]:
    async with s3_backend("s3-moto", moto_endpoint, await s3_clients.get(moto_endpoint)) as backend:
        yield backend


def storage_of(backend: Backend) -> S3PhotoStorage:
    assert isinstance(backend.storage, S3PhotoStorage)
    return backend.storage


async def test_photo_urls_are_presigned_gets_with_the_configured_lifetime(s3: Backend) -> None:
    key, _ = new_photo_keys()
    await s3.storage.put(key, IMAGE, WEBP)

    url = await s3.storage.url_for(key, WEBP)

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path.endswith(f"/crm/{key}")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-type"] == [WEBP]
    assert query["response-content-disposition"] == ["inline"]
    assert "X-Amz-Signature" in query


async def test_the_presigned_url_serves_inline_with_bounded_caching(s3: Backend) -> None:
    key, _ = new_photo_keys()
    await s3.storage.put(key, IMAGE, WEBP)

    async with httpx.AsyncClient() as client:
        answer = await client.get(await s3.storage.url_for(key, WEBP))

    assert answer.status_code == 200
    assert answer.content == IMAGE
    assert answer.headers["content-type"] == WEBP
    assert answer.headers["content-disposition"] == "inline"
    assert answer.headers["cache-control"] == "private, max-age=300"


async def test_objects_live_under_the_prefix(s3: Backend, moto_endpoint: S3Endpoint, s3_clients: S3Clients) -> None:
    key, _ = new_photo_keys()
    await s3.storage.put(key, IMAGE, WEBP)

    client = await s3_clients.get(moto_endpoint)
    bucket = storage_of(s3)._bucket
    listed = await client.list_objects_v2(Bucket=bucket)

    assert [item.get("Key") for item in listed.get("Contents", [])] == [f"crm/{key}"]
    head = await client.head_object(Bucket=bucket, Key=f"crm/{key}")
    assert head["ContentType"] == WEBP


async def test_a_missing_bucket_is_unavailable(moto_endpoint: S3Endpoint, s3_clients: S3Clients) -> None:
    storage = S3PhotoStorage(await s3_clients.get(moto_endpoint), "no-such-bucket-here", prefix="crm")
    key, _ = new_photo_keys()

    with pytest.raises(ServiceUnavailable):
        await storage.check()
    with pytest.raises(ServiceUnavailable):
        await storage.put(key, IMAGE, WEBP)
    with pytest.raises(ServiceUnavailable):
        _ = [item async for item in storage.list_keys()]


async def test_a_store_that_is_down_gives_up_within_the_retry_budget() -> None:
    """The production settings (three attempts, "standard" backoff): a few seconds, not a hang."""
    async with open_s3_client(
        region=REGION,
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        access_key_id="key",
        secret_access_key="secret",
    ) as client:
        storage = S3PhotoStorage(client, "photos")
        started = time.perf_counter()
        with pytest.raises(ServiceUnavailable):
            await storage.check()
        assert time.perf_counter() - started < 5


async def test_urls_can_be_signed_without_reaching_the_store(moto_endpoint: S3Endpoint) -> None:
    async with open_s3_client(
        region=REGION, endpoint_url=f"http://127.0.0.1:{closed_port()}", access_key_id="k", secret_access_key="s"
    ) as client:
        url = await S3PhotoStorage(client, "photos").url_for("photos/abc", JPEG)
    assert "X-Amz-Signature=" in url


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="bucket"):
        S3PhotoStorage(object(), "")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="7 days"):
        S3PhotoStorage(object(), "b", url_lifetime_seconds=8 * 24 * 3600)  # type: ignore[arg-type]


async def test_fetching_a_deleted_photo_fails(s3: Backend) -> None:
    key, _ = new_photo_keys()
    await s3.storage.put(key, IMAGE, WEBP)
    url = await s3.storage.url_for(key, WEBP)
    await s3.storage.delete([key])

    assert (await fetch_http(url)).status in (403, 404)
