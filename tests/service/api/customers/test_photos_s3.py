"""Photos through the API with S3 storage: moto's S3 server over real HTTP, and an S3 that is down."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from crm.app import create_app
from crm.container import Application
from crm.settings import Settings
from tests.service.api.conftest import Accounts, make_settings
from tests.service.api.helpers import assert_problem, sign_in
from tests.service.api.server import serve_in_thread

BUCKET = "crm-photos-test"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as environment:
        # The service takes S3 credentials from the standard AWS variables, as on a real deployment.
        environment.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
        environment.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
        boto3.client("s3", endpoint_url=url, region_name=REGION).create_bucket(Bucket=BUCKET)
        yield url
    server.stop()


def s3_settings(database_url: str, photo_dir: Path, endpoint: str) -> Settings:
    settings = make_settings(database_url, photo_dir)
    return settings.replace(s3_bucket=BUCKET, s3_prefix="crm/", s3_endpoint_url=endpoint, s3_region=REGION)


@pytest.fixture(scope="module")
def s3_base_url(database_url: str, moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = s3_settings(database_url, tmp_path_factory.mktemp("unused"), moto_url)
    with serve_in_thread(lambda url: create_app(settings.replace(public_url=url))) as url:
        yield url


@pytest.fixture(scope="module")
def s3_down_base_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
    settings = s3_settings(database_url, tmp_path_factory.mktemp("unused"), endpoint)
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
        environment.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
        with serve_in_thread(lambda url: create_app(settings.replace(public_url=url))) as url:
            yield url


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (0, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_photos_live_in_s3_and_load_through_presigned_urls(
    s3_base_url: str, moto_url: str, accounts: Accounts, seeding: Application
) -> None:
    user = await accounts.user()
    with httpx.Client(base_url=s3_base_url, timeout=30) as client:
        assert client.get("/health/ready").json()["checks"]["photo_storage"] == "ok"
        clerk = sign_in(client, user.email)
        assert clerk.post("/api/v1/customers", json={"id": "S3-1", "name": "Ada", "surname": "L"}).status_code == 201
        uploaded = clerk.put("/api/v1/customers/S3-1/photo", content=png(), headers={"Content-Type": "image/png"})
        assert uploaded.status_code == 200, uploaded.text
        url = uploaded.json()["photo_url"]
        assert url.startswith(moto_url) and "X-Amz-Signature=" in url and "X-Amz-Expires=" in url
        photo = httpx.get(url)
        assert photo.status_code == 200
        assert Image.open(io.BytesIO(photo.content)).size == (120, 80)
        keys = {item["Key"] for item in boto3.client("s3", endpoint_url=moto_url, region_name=REGION)
                .list_objects_v2(Bucket=BUCKET).get("Contents", [])}  # fmt: skip
        assert len(keys) == 2 and all(key.startswith("crm/photos/") for key in keys)
        # In the trash the objects stay, for a restoration; an erasure deletes them.
        assert clerk.delete("/api/v1/customers/S3-1").status_code == 204
        s3 = boto3.client("s3", endpoint_url=moto_url, region_name=REGION)
        assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 2
        admin = sign_in(client, (await accounts.user(admin=True)).email)
        assert admin.delete("/api/v1/customers/S3-1", params={"erase": "true"}).status_code == 204
        assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


async def test_with_s3_down_uploads_are_503_and_the_customer_is_unchanged(
    s3_down_base_url: str, accounts: Accounts
) -> None:
    user = await accounts.user()
    with httpx.Client(base_url=s3_down_base_url, timeout=60) as client:
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["photo_storage"] == "failing"
        clerk = sign_in(client, user.email)
        assert clerk.post("/api/v1/customers", json={"id": "S3-2", "name": "Ada", "surname": "L"}).status_code == 201
        failed = clerk.put("/api/v1/customers/S3-2/photo", content=png(), headers={"Content-Type": "image/png"})
        assert_problem(failed, 503)
        customer = clerk.get("/api/v1/customers/S3-2").json()
        assert customer["photo_url"] is None
        assert customer["version"] == 1
