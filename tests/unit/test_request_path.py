"""The request path stays lean: the busiest handlers resolve one dependency, everything the container
builds once can be asked for by name, and the access line is formatted without the logging machinery."""

from __future__ import annotations

import json
import logging

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from adapters.http.edge.observability import AccessLog, bind_user, close_request_context, open_request_context
from crm.app import build_asgi_app
from crm.http_provided import http_provided
from tests.unit.conftest import Core

HOT_HANDLERS = {"get_customer", "list_customers", "create_customer", "update_customer"}


def _handlers(app: Litestar) -> dict[str, HTTPRouteHandler]:
    found = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler):
                found[handler.handler_name] = handler
    return found


def test_the_busiest_handlers_resolve_only_the_actor(core: Core) -> None:
    app, _ = build_asgi_app(core.app, None)
    handlers = _handlers(app)
    assert handlers.keys() >= HOT_HANDLERS
    for name in HOT_HANDLERS:
        handler = handlers[name]
        provided = handler.resolve_dependencies()
        asked = {parameter for parameter in handler.parsed_fn_signature.parameters if parameter in provided}
        assert asked == {"actor"}, name
        # ... and the actor itself needs nothing else from the container.
        assert set(provided["actor"].signature_model._fields) <= {"request"}


def test_every_object_the_container_builds_once_can_be_asked_for_by_name(core: Core) -> None:
    provided = http_provided(core.app)
    assert {"get_customer", "create_user", "authenticate", "photo_limits", "client_addresses"} <= provided.keys()
    assert "settings" not in provided  # a configuration input, not something the container builds
    app, _ = build_asgi_app(core.app, None)
    # Every dependency a handler names is provided (Litestar would refuse to start otherwise, too).
    for handler in _handlers(app).values():
        names = handler.resolve_dependencies().keys()
        assert "authenticate" in names


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_the_access_line_carries_the_promised_fields(fmt: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="crm.access")  # the line follows the logger's level
    lines: list[bytes] = []
    log = AccessLog()
    log.configure(lines.append, fmt)
    context = open_request_context("req-1", "GET")
    bind_user("user-7")
    log.write(context, "/api/v1/customers/{customer_id}", 200, 1.25)
    close_request_context()
    assert len(lines) == 1
    line = lines[0].decode()
    assert line.endswith("\n")
    if fmt == "json":
        record = json.loads(line)
        assert record == {
            "event": "GET /api/v1/customers/{customer_id} -> 200",
            "route": "/api/v1/customers/{customer_id}",
            "request_id": "req-1",
            "method": "GET",
            "user_id": "user-7",
            "logger": "crm.access",
            "level": "info",
            "timestamp": record["timestamp"],
            "status": 200,
            "duration_ms": 1.25,
        }
        assert record["timestamp"].endswith("Z")
    else:
        assert "GET /api/v1/customers/{customer_id} -> 200" in line
        assert "request_id=req-1" in line
        assert "user_id=user-7" in line


def test_no_access_line_when_the_level_is_above_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="crm.access")
    lines: list[bytes] = []
    log = AccessLog()
    log.configure(lines.append, "json")
    log.write(open_request_context("req-2", "GET"), "/health/live", 200, 0.1)
    close_request_context()
    assert lines == []
