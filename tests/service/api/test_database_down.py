"""With the database unreachable, the service answers 503 problem+json and says which check fails."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from crm.app import create_app
from tests.service.api.conftest import make_settings
from tests.service.api.helpers import TOKEN_URL, assert_problem
from tests.service.api.server import serve_in_thread


@pytest.fixture(scope="module")
def no_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as closed:  # a port with nothing listening
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = make_settings(f"postgresql://postgres@127.0.0.1:{port}/gone", tmp_path_factory.mktemp("photos"))
    with serve_in_thread(lambda url: create_app(settings.replace(public_url=url))) as url:
        yield url


def test_sign_in_and_readiness_answer_503(no_database_url: str) -> None:
    with httpx.Client(base_url=no_database_url, timeout=30) as client:
        assert client.get("/health/live").status_code == 200
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "failing"
        sign_in = client.post(TOKEN_URL, data={"grant_type": "password", "username": "a@example.com", "password": "p"})
        body = assert_problem(sign_in, 503)
        assert "database" in body["detail"]
        assert "Traceback" not in sign_in.text
