"""What each request leaves behind: its context on every log line, one access line, and its metrics.

The request's context is one small dict in one ``ContextVar``, set once per request (binding and
clearing structlog's context variables key by key cost more than the rest of a small request's logging).
The access line is encoded here in one msgspec call, without the ``logging`` module's records, handlers
and formatter chain, and handed as bytes to the log writer, which writes it from a thread of its own
together with the other lines (``adapters/observability/log_writer.py``): no request waits for stdout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

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


class AccessLine(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The access line's fields, in the order of docs/operations.md; encoded by msgspec in one call."""

    event: str
    route: str
    request_id: str
    method: str
    user_id: str | None = None
    logger: str
    level: str
    timestamp: datetime  # msgspec writes UTC as ...Z, like the other lines' TimeStamper
    status: int
    duration_ms: float


_ENCODER = msgspec.json.Encoder()


def _json_line(line: AccessLine) -> bytes:
    return _ENCODER.encode(line) + b"\n"


def _console_line(line: AccessLine) -> bytes:
    fields = {name: getattr(line, name) for name in line.__struct_fields__ if getattr(line, name) is not None}
    rest = " ".join(f"{key}={value}" for key, value in fields.items() if key not in ("event", "timestamp", "level"))
    stamp = line.timestamp.isoformat().replace("+00:00", "Z")
    return f"{stamp} [info     ] {line.event} {rest}\n".encode()


class AccessLog:
    """One line per request, encoded here and handed to the log writer (``adapters/observability/log_writer.py``),
    which writes it from its own thread in the same queue as the other lines, in their format."""

    def __init__(self) -> None:
        self._sink: Callable[[bytes], None] | None = None
        self._render: Callable[[AccessLine], bytes] = _json_line
        self._logger = logging.getLogger(ACCESS_LOGGER)

    def configure(self, sink: Callable[[bytes], None], fmt: str) -> None:
        self._sink = sink
        self._render = _json_line if fmt == "json" else _console_line

    def write(self, context: RequestContext, route: str, status: int, duration_ms: float) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        method = context["method"]
        event = f"{method} {route} -> {status}"
        if self._sink is None:
            # Logging was not configured by structured_logging.py (a library use): the standard way.
            logger.info(event, extra={"status": status, "duration_ms": duration_ms})
            return
        line = AccessLine(
            event=event,
            route=route,
            request_id=context["request_id"],
            method=method,
            user_id=context.get("user_id"),
            logger=ACCESS_LOGGER,
            level="info",
            timestamp=datetime.now(UTC),
            status=status,
            duration_ms=duration_ms,
        )
        self._sink(self._render(line))


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


def configure_access_log(sink: Callable[[bytes], None], fmt: str) -> None:
    ACCESS_LOG.configure(sink, fmt)
