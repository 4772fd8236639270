"""With CRM_OTLP_ENDPOINT set, every request's span reaches the OTLP collector."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from crm.app import create_app
from tests.service.api.conftest import make_settings
from tests.service.api.server import serve_in_thread


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_spans_are_exported_to_the_configured_endpoint(database_url: str, tmp_path: Path, collector: str) -> None:
    Collector.received.clear()
    traced = make_settings(database_url, tmp_path).replace(otlp_endpoint=collector)
    with serve_in_thread(lambda url: create_app(traced.replace(public_url=url))) as base_url:
        assert httpx.get(f"{base_url}/api/v1/auth/providers").status_code == 200
    # Stopping the server shut the tracer provider down, which flushed the batch.
    paths = {path for path, _ in Collector.received}
    assert paths == {"/v1/traces"}
    exported = b"".join(body for _, body in Collector.received)
    assert b"crm-service" in exported
    assert b"/api/v1/auth/providers" in exported
