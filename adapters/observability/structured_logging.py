"""Logging: JSON lines to stdout in production, readable lines in development; request context on each."""

from __future__ import annotations

import logging
from typing import Any, Literal

import structlog

from adapters.http.edge.observability import configure_access_log, merge_request_context
from adapters.observability.log_writer import WriterHandler, stdout_writer

LogFormat = Literal["json", "console"]

_EXTRA_FIELDS = ("status", "duration_ms")


def _copy_extra_fields(_: object, __: str, event: structlog.typing.EventDict) -> structlog.typing.EventDict:
    record = event.get("_record")
    for name in _EXTRA_FIELDS:
        if record is not None and hasattr(record, name):
            event[name] = getattr(record, name)
    return event


def formatter(fmt: LogFormat = "console") -> logging.Formatter:
    """The formatter of every log line: a JSON object or a readable line."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            merge_request_context,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _copy_extra_fields,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def granian_log_config(fmt: LogFormat) -> dict[str, Any]:
    """granian's own logging (its ``--log-config``, a ``dictConfig``): the supervisor's lines in the same format."""
    handler = {"class": "logging.StreamHandler", "formatter": "crm", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"crm": {"()": f"{__name__}.formatter", "fmt": fmt}},
        "handlers": {"console": handler},
        "loggers": {name: {"handlers": ["console"], "propagate": False} for name in ("_granian", "granian.access")},
    }


def configure_logging(level: str = "INFO", fmt: LogFormat = "console") -> None:
    """Route every stdlib logger (ours, Litestar's, granian's) through structlog's formatter."""
    # One writer for every line: access lines and records keep their order, and none waits for stdout.
    writer = stdout_writer()
    handler = WriterHandler(writer)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access lines skip the stdlib machinery but keep this format (adapters/http/edge/observability.py).
    configure_access_log(writer.write, fmt)
