"""The one ASGI layer around the whole application: what every request gets on its way in and out.

In one pass, instead of four nested layers (each wrapping ``send`` again): the request id, the
security and cache headers of every response (errors and 404s included), the ``Allow`` header of
OPTIONS answers, the request's log context and access line, the request metrics, and fair use (``fair_use.py``:
the request counted against its caller, the ``RateLimit`` headers, exports and imports held to their cap).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from adapters.http.edge.fair_use import Counted, FairUse
from adapters.http.edge.observability import (
    ACCESS_LOG,
    REQUEST_METRICS,
    close_request_context,
    open_request_context,
)
from adapters.http.edge.request_ids import request_id_of
from adapters.http.edge.response_headers import ASGIApp, Message, Receive, Scope, Send, add_security_headers

_UNMEASURED = frozenset({"/metrics"})


class Edge:
    def __init__(self, app: ASGIApp, allowed_methods: Mapping[str, str], fair_use: FairUse | None = None) -> None:
        self.app = app
        self.fair_use = fair_use
        # Litestar's own OPTIONS answers list only some methods of a path (see allowed_methods.py).
        self.allowed = {path: value.encode() for path, value in allowed_methods.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        method: str = scope["method"]
        path: str = scope["path"]
        context = open_request_context(request_id, method)
        running = REQUEST_METRICS.started(method)
        status = 500
        counted: Counted | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                add_security_headers(headers, path, request_id.encode())
                if method == "OPTIONS":
                    self._replace_allow(headers, scope.get("path_template", ""))
                if counted is not None:
                    headers.extend(counted.headers)
                message["headers"] = headers
            await send(message)

        try:
            if self.fair_use is not None and self.fair_use.counts(path):
                counted = await self.fair_use.count(scope)
            await self.app(scope, receive, send_with_headers)
        finally:
            if counted is not None and self.fair_use is not None:
                self.fair_use.done(counted)
            running.dec()
            seconds = time.perf_counter() - started
            template: str | None = scope.get("path_template")
            if template is not None and template not in _UNMEASURED:
                REQUEST_METRICS.answered(method, template, status, seconds)
            ACCESS_LOG.write(context, template or "unmatched", status, round(seconds * 1000, 2))
            close_request_context()

    def _replace_allow(self, headers: list[tuple[bytes, bytes]], template: str) -> None:
        allowed = self.allowed.get(template)
        if allowed is not None and any(name.lower() == b"allow" for name, _ in headers):
            headers[:] = [(n, v) for n, v in headers if n.lower() != b"allow"]
            headers.append((b"allow", allowed))
