"""Fixtures for the photo tests: the storage backends of the contract suite.

The suite runs against every backend available here: in memory, a local folder, moto's S3 server
over real HTTP and, when a Docker engine answers, MinIO in a container. A backend that is not
available is not parametrised at all (no skipped test pretends to cover it); the end of the run
says which backends ran and which could not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from .support import (
    Backend,
    S3Clients,
    S3Endpoint,
    docker_engine_problem,
    local_backend,
    memory_backend,
    minio_container,
    s3_backend,
)

DOCKER_PROBLEM = docker_engine_problem()
STORAGE_BACKENDS = ["memory", "local", "s3-moto"] + ([] if DOCKER_PROBLEM else ["s3-minio"])
_ran: set[str] = set()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[S3Endpoint]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Endpoint(f"http://{host}:{port}", "moto-access-key", "moto-secret-key")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def minio_endpoint() -> Iterator[S3Endpoint]:
    with minio_container() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
async def s3_clients() -> AsyncIterator[S3Clients]:
    clients = S3Clients()
    try:
        yield clients
    finally:
        await clients.aclose()


@pytest.fixture(params=STORAGE_BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path, s3_clients: S3Clients) -> AsyncIterator[Backend]:
    name: str = request.param
    _ran.add(name)
    if name == "memory":
        yield memory_backend()
    elif name == "local":
        yield local_backend(tmp_path)
    else:
        endpoint: S3Endpoint = request.getfixturevalue("moto_endpoint" if name == "s3-moto" else "minio_endpoint")
        async with s3_backend(name, endpoint, await s3_clients.get(endpoint)) as s3:
            yield s3


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ran:
        return
    terminalreporter.write_line(f"photo storage contract ran against: {', '.join(sorted(_ran))}")
    if DOCKER_PROBLEM:
        terminalreporter.write_line(f"photo storage contract did NOT run against MinIO: {DOCKER_PROBLEM}")
