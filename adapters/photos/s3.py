"""Photo storage in an S3 bucket (AWS S3 or any S3-compatible store), through aiobotocore.

The client is created once, in the application's lifespan, with ``open_s3_client``; credentials come
from botocore's default chain (the standard ``AWS_*`` environment variables, a shared profile, or the
pod's role), never from our own settings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Final

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from application.customers.photo_rules import PHOTO_CONTENT_TYPES
from application.ports.photos import PhotoStorage, StoredObject
from domain.errors import ServiceUnavailable

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

logger = logging.getLogger(__name__)

# What a failing store, network or credential chain raises through aiobotocore.
_STORE_ERRORS: Final = (BotoCoreError, ClientError, OSError, asyncio.TimeoutError)
_DELETE_BATCH: Final = 1000  # the most that DeleteObjects takes at once
UNAVAILABLE = "The photo storage did not answer; try again later."


@asynccontextmanager
async def open_s3_client(
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    connect_timeout: float = 3.0,
    read_timeout: float = 20.0,
    max_attempts: int = 3,
    max_pool_connections: int = 20,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
) -> AsyncIterator[S3Client]:
    """An S3 client for the application's lifetime, e.g. ``await stack.enter_async_context(open_s3_client(...))``.

    With ``endpoint_url`` (MinIO, Ceph, moto, ...) addressing is path-style, which every
    S3-compatible store understands, and checksums are sent only where S3 requires them, because
    several of those stores reject the newer default checksum headers.

    ``max_attempts`` counts every attempt, the first included; with the "standard" retry mode the waits
    between them are random, at most 1 s then 2 s, so a store that is down costs a request about 3 s.
    ``access_key_id``/``secret_access_key`` are for tests; in deployments leave them None so that the
    default credential chain applies.
    """
    options: dict[str, Any] = {
        # botocore's "max_attempts" counts retries only; "total_max_attempts" counts every attempt.
        "retries": {"mode": "standard", "total_max_attempts": max_attempts},
        "signature_version": "s3v4",
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        "max_pool_connections": max_pool_connections,
    }
    if endpoint_url:
        options["s3"] = {"addressing_style": "path"}
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    session = get_session()
    async with session.create_client(
        "s3",
        region_name=region,
        endpoint_url=endpoint_url or None,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=AioConfig(**options),
    ) as client:
        yield client


class S3PhotoStorage(PhotoStorage):
    """Objects under ``prefix`` in ``bucket``; photo URLs are presigned GETs valid for ``url_lifetime_seconds``."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "", url_lifetime_seconds: int = 900) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        # Presigned S3v4 URLs cannot live longer than seven days.
        if not 1 <= url_lifetime_seconds <= 7 * 24 * 3600:
            raise ValueError("the photo URL lifetime must be between 1 second and 7 days")
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.lstrip("/")
        self._lifetime = url_lifetime_seconds

    def _object_key(self, key: str) -> str:
        if not key or key.startswith("/"):
            raise ValueError(f"not a photo key: {key!r}")
        return self._prefix + key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        _check_content_type(content_type)
        try:
            await self._client.put_object(
                Bucket=self._bucket,
                Key=self._object_key(key),
                Body=data,
                ContentType=content_type,
                ContentDisposition="inline",
                # Keys are never reused for other content, so caches may keep an object as long as they like.
                CacheControl="private, max-age=31536000, immutable",
            )
        except _STORE_ERRORS as error:
            raise _unavailable("put", error) from error

    async def delete(self, keys: Sequence[str]) -> None:
        object_keys = [self._object_key(key) for key in keys]
        for start in range(0, len(object_keys), _DELETE_BATCH):
            batch = object_keys[start : start + _DELETE_BATCH]
            try:
                answer = await self._client.delete_objects(
                    Bucket=self._bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            except _STORE_ERRORS as error:
                raise _unavailable("delete", error) from error
            # Missing keys are not errors in S3; anything reported here is a real failure.
            failures = [item for item in answer.get("Errors", []) if item.get("Code") != "NoSuchKey"]
            if failures:
                logger.warning("S3 refused to delete %d photo objects: %s", len(failures), failures[:3])
                raise ServiceUnavailable(UNAVAILABLE)

    async def url_for(self, key: str, content_type: str) -> str:
        _check_content_type(content_type)
        try:
            return await self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": self._object_key(key),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": "inline",
                    "ResponseCacheControl": f"private, max-age={self._lifetime}",
                },
                ExpiresIn=self._lifetime,
            )
        except _STORE_ERRORS as error:  # e.g. no credentials to sign with
            raise _unavailable("sign a URL", error) from error

    async def check(self) -> None:
        try:
            await self._client.head_bucket(Bucket=self._bucket)
        except _STORE_ERRORS as error:
            raise _unavailable("check", error) from error

    async def list_keys(self, prefix: str = "") -> AsyncIterator[StoredObject]:
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self._bucket, Prefix=self._prefix + prefix).__aiter__()
        while True:
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                return
            except _STORE_ERRORS as error:
                raise _unavailable("list", error) from error
            for item in page.get("Contents", []):
                object_key, modified = item.get("Key"), item.get("LastModified")
                if object_key is None or modified is None or not object_key.startswith(self._prefix):
                    continue
                yield StoredObject(object_key[len(self._prefix) :], modified)


def _check_content_type(content_type: str) -> None:
    if content_type not in PHOTO_CONTENT_TYPES:
        raise ValueError(f"not a photo content type: {content_type!r}")


def _unavailable(action: str, error: BaseException) -> ServiceUnavailable:
    logger.warning("S3 photo storage failed to %s: %s", action, error)
    return ServiceUnavailable(UNAVAILABLE)
