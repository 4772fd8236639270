"""One log line per request with its id, route, status and duration; every other log line written while
the request runs carries the same request id (and the user id once known)."""

from __future__ import annotations

import logging
import time
from typing import Any

import structlog

from adapters.http.request_ids import request_id_of
from adapters.http.response_headers import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("crm.access")


def bind_user(user_id: str) -> None:
    structlog.contextvars.bind_contextvars(user_id=user_id)


class RequestLogging:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id_of(scope), method=scope.get("method"))
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def send_and_note_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = scope.get("path_template") or "unmatched"
            structlog.contextvars.bind_contextvars(route=route)
            logger.info(
                "%s %s -> %s",
                scope.get("method"),
                route,
                status["code"],
                extra={"status": status["code"], "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
            )
            structlog.contextvars.clear_contextvars()
