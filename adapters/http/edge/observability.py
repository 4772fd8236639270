"""What each request leaves behind: its context on every log line, one access line, and its metrics.

The request's context is one small dict in one ``ContextVar``, set once per request (binding and
clearing structlog's context variables key by key cost more than the rest of a small request's logging).
The access line is written straight to the log stream, formatted here, without the ``logging`` module's
records, handlers and formatter chain on every request; other lines still go through ``logging``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec
from prometheus_client import Counter, Gauge, Histogram

RequestContext = dict[str, str]
_CONTEXT: ContextVar[RequestContext | None] = ContextVar("crm_request_context", default=None)
ACCESS_LOGGER = "crm.access"


def open_request_context(request_id: str, method: str) -> RequestContext:
    context = {"request_id": request_id, "method": method}
    _CONTEXT.set(context)
    return context


def close_request_context() -> None:
    _CONTEXT.set(None)


def bind_user(user_id: str) -> None:
    """Name the signed-in user on the current request's log lines."""
    context = _CONTEXT.get()
    if context is not None:
        context["user_id"] = user_id


def merge_request_context(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current request's id, method and user on any log line."""
    context = _CONTEXT.get()
    if context is not None:
        for key, value in context.items():
            event.setdefault(key, value)
    return event


def _json_line(fields: dict[str, Any]) -> str:
    return msgspec.json.encode(fields).decode() + "\n"


def _console_line(fields: dict[str, Any]) -> str:
    rest = " ".join(f"{key}={value}" for key, value in fields.items() if key not in ("event", "timestamp", "level"))
    return f"{fields['timestamp']} [info     ] {fields['event']} {rest}\n"


class AccessLog:
    """One line per request on the log stream, in the format of the other lines (``crm/logging.py``)."""

    def __init__(self) -> None:
        self._stream: TextIO | None = None
        self._render: Callable[[dict[str, Any]], str] = _json_line

    def configure(self, stream: TextIO, fmt: str) -> None:
        self._stream = stream
        self._render = _json_line if fmt == "json" else _console_line

    def write(self, context: RequestContext, route: str, status: int, duration_ms: float) -> None:
        logger = logging.getLogger(ACCESS_LOGGER)
        if not logger.isEnabledFor(logging.INFO):
            return
        event = f"{context['method']} {route} -> {status}"
        if self._stream is None:
            # Logging was not configured by crm/logging.py (a library use): the standard way.
            logger.info(event, extra={"status": status, "duration_ms": duration_ms})
            return
        fields: dict[str, Any] = {"event": event, "route": route, **context}
        fields.update(
            logger=ACCESS_LOGGER,
            level="info",
            timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            status=status,
            duration_ms=duration_ms,
        )
        self._stream.write(self._render(fields))
        self._stream.flush()


ACCESS_LOG = AccessLog()


class RequestMetrics:
    """Request count, duration and errors by route template; ``crm_requests_in_progress`` by method.

    Label children are looked up once per (method, route, status) and kept: ``labels()`` is the costly part.
    """

    def __init__(self, prefix: str = "crm", app_name: str = "crm") -> None:
        names = ["app_name", "method", "path", "status_code"]
        self._count = Counter(f"{prefix}_requests", "Requests answered.", names)
        self._time = Histogram(f"{prefix}_request_duration_seconds", "Time to answer.", names)
        self._errors = Counter(f"{prefix}_requests_error", "Requests answered with a 5xx status.", names)
        self._in_progress = Gauge(f"{prefix}_requests_in_progress", "Requests being answered.", ["app_name", "method"])
        self._app_name = app_name
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
        self._running: dict[str, Any] = {}

    def started(self, method: str) -> Any:
        gauge = self._running.get(method)
        if gauge is None:
            gauge = self._running[method] = self._in_progress.labels(self._app_name, method)
        gauge.inc()
        return gauge

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (self._app_name, method, route, str(status))
            children = (self._count.labels(*labels), self._time.labels(*labels), self._errors.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if status >= 500:
            children[2].inc()


REQUEST_METRICS = RequestMetrics()


def configure_access_log(fmt: str) -> None:
    ACCESS_LOG.configure(sys.stdout, fmt)
