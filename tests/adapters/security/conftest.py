"""A real OpenID Connect provider on 127.0.0.1 for the tests: the ``oidc-provider-mock`` package, served by werkzeug
on a background thread, behind a tiny WSGI proxy that counts requests per path and, when a test asks, publishes
extra keys or changes what the discovery document says (as a provider rotating keys, or a tampered one, would).

Real ID tokens come from driving the provider's authorization-code flow over HTTP: set the user's claims, submit
the authorization form, exchange the code at the token endpoint.
"""

from __future__ import annotations

import importlib
import json
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import httpx
import pytest
import werkzeug.serving

CLIENT_ID = "crm-web"
REDIRECT_URI = "http://127.0.0.1/signed-in"
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks"
ALICE_CLAIMS: dict[str, object] = {"email": "alice@example.com", "email_verified": True}

Document = dict[str, Any]


def _mock_app() -> WSGIApplication:
    with warnings.catch_warnings():
        # authlib, which the mock uses, warns about its own deprecated modules on import, and its ``deprecate``
        # module installs an "always" filter when imported: import that first, then put our filter in front.
        importlib.import_module("authlib.deprecate")
        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock

        app: WSGIApplication = oidc_provider_mock.app()
    return app


class ProviderProxy:
    """WSGI middleware in front of the provider: counts requests by path, may rewrite discovery and JWKS answers."""

    def __init__(self, app: WSGIApplication) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.extra_keys: list[Document] = []
        self.discovery_changes: Document = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        with self._lock:
            self.hits[path] += 1
            rewrite = self._rewrite_for(path)
        if rewrite is None:
            return self._app(environ, start_response)
        captured: list[tuple[str, list[tuple[str, str]]]] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            captured.append((status, headers))
            return lambda data: None

        result = self._app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = captured[0]
        if status.startswith("200"):
            body = json.dumps(rewrite(json.loads(body))).encode()
            headers = [(name, value) for name, value in headers if name.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]

    def _rewrite_for(self, path: str) -> Callable[[Document], Document] | None:
        if path == JWKS_PATH and self.extra_keys:
            extra = list(self.extra_keys)
            return lambda document: {**document, "keys": [*document["keys"], *extra]}
        if path == DISCOVERY_PATH and self.discovery_changes:
            changes = dict(self.discovery_changes)
            return lambda document: {**document, **changes}
        return None


class RunningProvider:
    def __init__(self, issuer: str, proxy: ProviderProxy) -> None:
        self.issuer = issuer
        self.proxy = proxy

    @property
    def netloc(self) -> str:
        return urlsplit(self.issuer).netloc

    @property
    def key_fetches(self) -> int:
        return self.proxy.hits[JWKS_PATH]

    @property
    def discovery_fetches(self) -> int:
        return self.proxy.hits[DISCOVERY_PATH]

    def publish(self, jwk: Document) -> None:
        """From now on the provider's JWKS also lists this key, as during a key rotation."""
        self.proxy.extra_keys.append(jwk)

    def change_discovery(self, **changes: object) -> None:
        self.proxy.discovery_changes.update(changes)

    async def jwks(self) -> Document:
        async with httpx.AsyncClient(base_url=self.issuer) as client:
            response = await client.get(JWKS_PATH)
        response.raise_for_status()
        document: Document = response.json()
        return document

    async def id_token(
        self,
        *,
        sub: str = "alice",
        claims: dict[str, object] | None = None,
        client_id: str = CLIENT_ID,
        host: str | None = None,
    ) -> str:
        """A real ID token: the user ``sub`` with ``claims`` signs in to ``client_id`` through the authorization-code
        flow. ``host`` sets the Host header, from which the mock derives its issuer."""
        headers = {"Host": host} if host else {}
        async with httpx.AsyncClient(base_url=self.issuer, headers=headers, timeout=10) as client:
            response = await client.put(f"/users/{sub}", json=ALICE_CLAIMS if claims is None else claims)
            assert response.status_code == 204, response.text
            response = await client.post(
                "/oauth2/authorize",
                params={
                    "client_id": client_id,
                    "redirect_uri": REDIRECT_URI,
                    "response_type": "code",
                    "scope": "openid email",
                    "state": "state-1",
                },
                data={"sub": sub},
            )
            assert response.status_code == 302, response.text
            code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
            response = await client.post(
                "/oauth2/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT_URI,
                    "client_id": client_id,
                    "client_secret": "any",
                },
            )
            assert response.status_code == 200, response.text
        token = response.json()["id_token"]
        assert isinstance(token, str)
        return token


@contextmanager
def running_provider() -> Iterator[RunningProvider]:
    proxy = ProviderProxy(_mock_app())
    server = werkzeug.serving.make_server("127.0.0.1", 0, proxy, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield RunningProvider(f"http://127.0.0.1:{server.server_port}", proxy)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def provider() -> Iterator[RunningProvider]:
    """A fresh provider (own keys, own counters) for each test."""
    with running_provider() as running:
        yield running


@pytest.fixture
def other_provider() -> Iterator[RunningProvider]:
    with running_provider() as running:
        yield running
