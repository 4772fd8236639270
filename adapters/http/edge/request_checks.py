"""Checks on the shape of every request before a handler runs.

Unknown query parameters are refused rather than ignored (a typo would otherwise go unseen), and a
JSON body must be declared as JSON.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Request
from litestar.enums import ParamType, RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg, ParameterKwarg

from domain.errors import MalformedRequest

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@cache
def _allowed_query(handler: HTTPRouteHandler) -> frozenset[str]:
    names = set()
    for name, parameter in handler.parsed_fn_signature.parameters.items():
        definition = parameter.kwarg_definition
        if isinstance(definition, ParameterKwarg) and definition.param_type == ParamType.QUERY:
            names.add(definition.name or name)
    return frozenset(names)


@cache
def _takes_json(handler: HTTPRouteHandler) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    definition = data.kwarg_definition
    return not isinstance(definition, BodyKwarg) or definition.media_type == RequestEncodingType.JSON


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def check_request_shape(request: Request[Any, Any, Any]) -> None:
    handler = request.scope.get("route_handler")
    if not isinstance(handler, HTTPRouteHandler):
        return
    if request.scope.get("query_string"):
        unknown = sorted(set(request.query_params) - _allowed_query(handler))
        if unknown:
            raise MalformedRequest(f"Unknown query parameter(s): {', '.join(unknown)}.")
    json_expected = request.method in _BODY_METHODS and _takes_json(handler)
    if json_expected and not _is_json(request.headers.get("content-type", "")):
        raise HTTPException(status_code=415, detail="Send the body as application/json.")
