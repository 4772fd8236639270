"""compose.yaml: PostgreSQL 16, MinIO with its bucket, a one-shot migration, the service and its webhook worker
built from the Containerfile, started in that order and hardened like the Kubernetes pods. (No compose engine runs
here: these are structural checks of the file that podman-compose and docker compose read.)"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.platform.conftest import REPOSITORY


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((REPOSITORY / "compose.yaml").read_text())  # resolves the YAML anchors and merges
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def test_every_image_is_pinned(services: dict[str, dict[str, Any]]) -> None:
    for service in services.values():
        tag = service["image"].rpartition(":")[2]
        assert tag and tag != "latest", service["image"]


def test_start_order(services: dict[str, dict[str, Any]]) -> None:
    assert services["minio-bucket"]["depends_on"] == {"minio": {"condition": "service_healthy"}}
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["crm"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "minio-bucket": {"condition": "service_completed_successfully"},
    }
    for name in ("postgres", "minio", "crm", "webhooks"):
        assert services[name]["healthcheck"]["test"], name


def test_migrate_and_serve_from_the_same_built_image(services: dict[str, dict[str, Any]]) -> None:
    migrate, crm = services["migrate"], services["crm"]
    assert migrate["build"] == crm["build"] == {"context": ".", "dockerfile": "Containerfile"}
    assert migrate["image"] == crm["image"]
    assert migrate["command"] == ["migrate", "--contract"]  # a single instance applies both phases
    assert crm["command"] == ["serve"]
    assert crm["ports"] == ["127.0.0.1:${CRM_PORT_ON_HOST:-8000}:8000"]


def test_a_webhook_worker_delivers_what_the_service_queues(services: dict[str, dict[str, Any]]) -> None:
    worker, crm = services["webhooks"], services["crm"]
    assert worker["build"] == crm["build"] and worker["image"] == crm["image"]
    assert worker["command"] == ["webhooks", "work"]
    assert worker["environment"] == crm["environment"]
    # The service has a database of its own here, so it delivers nothing itself (crm/cli.py serve).
    assert crm["environment"]["DATABASE_URL"] and "CRM_WEBHOOKS_IN_SERVE" not in crm["environment"]
    assert worker["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert "9101/metrics" in " ".join(worker["healthcheck"]["test"])
    assert "ports" not in worker


def test_service_containers_are_hardened_like_the_pods(services: dict[str, dict[str, Any]]) -> None:
    for name in ("migrate", "crm", "webhooks"):
        service = services[name]
        assert service["user"] == "10001:10001"
        assert service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"]
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]


def test_service_points_at_the_compose_database_and_store(services: dict[str, dict[str, Any]]) -> None:
    environment = services["crm"]["environment"]
    assert environment == services["migrate"]["environment"]
    database = urlsplit(environment["DATABASE_URL"])
    postgres = services["postgres"]["environment"]
    assert (database.hostname, database.port, database.path) == ("postgres", 5432, "/" + postgres["POSTGRES_DB"])
    assert (database.username, database.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
    assert urlsplit(environment["CRM_S3_ENDPOINT_URL"]).hostname == "minio"
    minio = services["minio"]["environment"]
    assert environment["AWS_ACCESS_KEY_ID"] == minio["MINIO_ROOT_USER"]
    assert environment["AWS_SECRET_ACCESS_KEY"] == minio["MINIO_ROOT_PASSWORD"]
    assert f"local/{environment['CRM_S3_BUCKET']}" in " ".join(services["minio-bucket"]["command"])
    assert environment["CRM_ENV"] == "development"
