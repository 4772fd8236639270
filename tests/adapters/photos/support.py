"""The photo storage backends that the contract suite runs against, and how each is reached."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import httpx

from adapters.photos.local import LocalPhotoStorage
from adapters.photos.memory import InMemoryPhotoStorage
from adapters.photos.s3 import S3PhotoStorage, open_s3_client
from adapters.photos.signing import UrlSigner
from adapters.system.clock import SystemClock
from application.ports.photos import PhotoStorage
from application.ports.system import Clock
from domain.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

REGION = "us-east-1"
SIGNING_SECRET = b"photo-contract-suite-secret-0123"
LOCAL_BASE_URL = "http://crm.test/media"
MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"


class FixedClock(Clock):
    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime.now(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    body: bytes = b""
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str


@dataclass(slots=True)
class Backend:
    name: str
    storage: PhotoStorage
    # Load a photo URL the way a browser's <img> would: no Authorization header.
    fetch: Callable[[str], Awaitable[Fetched]]
    # The same kind of storage with its store unreachable or broken.
    broken: Callable[[], AbstractAsyncContextManager[PhotoStorage]]


# --- in memory ---------------------------------------------------------------------------------


def memory_backend() -> Backend:
    storage = InMemoryPhotoStorage()

    async def fetch(url: str) -> Fetched:
        found = storage.object_at(url)
        return Fetched(404) if found is None else Fetched(200, found.data, found.content_type)

    @asynccontextmanager
    async def broken() -> AsyncIterator[PhotoStorage]:
        down = InMemoryPhotoStorage()
        down.down = True
        yield down

    return Backend("memory", storage, fetch, broken)


# --- local folder ------------------------------------------------------------------------------


def local_backend(folder: Path) -> Backend:
    signer = UrlSigner(SIGNING_SECRET, timedelta(minutes=5), SystemClock())
    storage = LocalPhotoStorage(folder / "photos-root", signer, LOCAL_BASE_URL)

    async def fetch(url: str) -> Fetched:
        return await fetch_local(storage, url)

    @asynccontextmanager
    async def broken() -> AsyncIterator[PhotoStorage]:
        # The folder's place is taken by a file: every file operation fails.
        blocker = folder / "not-a-folder"
        blocker.write_bytes(b"")
        yield LocalPhotoStorage(blocker, signer, LOCAL_BASE_URL)

    return Backend("local", storage, fetch, broken)


async def fetch_local(storage: LocalPhotoStorage, url: str) -> Fetched:
    """What the service's photo route does with a URL from ``LocalPhotoStorage.url_for``."""
    parts = urlsplit(url)
    base = urlsplit(LOCAL_BASE_URL)
    assert (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
    assert parts.path.startswith(base.path + "/")
    key = parts.path[len(base.path) + 1 :]
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    try:
        served = await storage.serve(key, query.get("expires", ""), query.get("type", ""), query.get("signature", ""))
    except PermissionDenied:
        return Fetched(403)
    except NotFound:
        return Fetched(404)
    return Fetched(200, served.data, served.headers["Content-Type"])


# --- S3 over HTTP --------------------------------------------------------------------------------


async def fetch_http(url: str) -> Fetched:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(url)
    return Fetched(answer.status_code, answer.content, answer.headers.get("content-type"))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class S3Clients:
    """One client per S3 endpoint for the whole run: creating a client costs a few tenths of a second."""

    def __init__(self) -> None:
        self._stack = AsyncExitStack()
        self._clients: dict[str, S3Client] = {}

    async def get(self, endpoint: S3Endpoint) -> S3Client:
        if endpoint.url not in self._clients:
            self._clients[endpoint.url] = await self._stack.enter_async_context(
                open_s3_client(
                    region=REGION,
                    endpoint_url=endpoint.url,
                    access_key_id=endpoint.access_key,
                    secret_access_key=endpoint.secret_key,
                )
            )
        return self._clients[endpoint.url]

    async def aclose(self) -> None:
        await self._stack.aclose()


@asynccontextmanager
async def s3_backend(name: str, endpoint: S3Endpoint, client: S3Client) -> AsyncIterator[Backend]:
    """A fresh bucket on the endpoint, and photos under a prefix in it."""
    bucket = f"crm-photos-{uuid4().hex[:16]}"
    await client.create_bucket(Bucket=bucket)
    storage = S3PhotoStorage(client, bucket, prefix="crm", url_lifetime_seconds=300)

    @asynccontextmanager
    async def broken() -> AsyncIterator[PhotoStorage]:
        async with open_s3_client(
            region=REGION,
            endpoint_url=f"http://127.0.0.1:{closed_port()}",
            access_key_id=endpoint.access_key,
            secret_access_key=endpoint.secret_key,
            connect_timeout=0.5,
            read_timeout=1,
            max_attempts=1,
        ) as down:
            yield S3PhotoStorage(down, bucket, prefix="crm")

    try:
        yield Backend(name, storage, fetch_http, broken)
    finally:
        await storage.delete([item.key async for item in storage.list_keys()])
        await client.delete_bucket(Bucket=bucket)


# --- whether a Docker engine answers (for the MinIO peer) --------------------------------------


def docker_engine_problem() -> str | None:
    """None when a Docker engine answers, else why not."""
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception as error:
        return f"no Docker engine answers ({type(error).__name__})"
    return None


@contextmanager
def minio_container() -> Iterator[S3Endpoint]:
    """MinIO in a container, configured as ``testcontainers.community.minio.MinioContainer`` does
    (that module needs the ``minio`` client package, which this project does not otherwise use)."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    access_key, secret_key = "minioadmin", "minioadmin-secret"
    container = (
        DockerContainer(MINIO_IMAGE, _wait_strategy=HttpWaitStrategy(9000, "/minio/health/live"))
        .with_exposed_ports(9000)
        .with_env("MINIO_ROOT_USER", access_key)
        .with_env("MINIO_ROOT_PASSWORD", secret_key)
        .with_command("server /data --address :9000")
    )
    with container:
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(9000)}"
        yield S3Endpoint(url, access_key, secret_key)
