"""Checks on the shape of every request before a handler runs.

Unknown query parameters are refused rather than ignored (a typo would otherwise go unseen), a boolean in the
query is `true` or `false`, and a JSON body must be declared as JSON.
"""

from __future__ import annotations

from functools import cache
from typing import Any, get_args

from litestar import Request
from litestar.enums import ParamType, RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg, ParameterKwarg

from domain.errors import MalformedRequest

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@cache
def _query_types(handler: HTTPRouteHandler) -> dict[str, Any]:
    """The handler's query parameters by name, with their types."""
    types = {}
    for name, parameter in handler.parsed_fn_signature.parameters.items():
        definition = parameter.kwarg_definition
        if isinstance(definition, ParameterKwarg) and definition.param_type == ParamType.QUERY:
            types[definition.name or name] = parameter.annotation
    return types


@cache
def _allowed_query(handler: HTTPRouteHandler) -> frozenset[str]:
    return frozenset(_query_types(handler))


@cache
def _boolean_query(handler: HTTPRouteHandler) -> frozenset[str]:
    return frozenset(name for name, kind in _query_types(handler).items() if kind is bool or bool in get_args(kind))


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
        # Litestar's lax conversion would take 0/1 and "null" as booleans; the document says true or false.
        for name in _boolean_query(handler):
            if any(value not in ("true", "false") for value in request.query_params.getall(name, [])):
                raise MalformedRequest(f"The query parameter {name} must be true or false.")
    json_expected = request.method in _BODY_METHODS and _takes_json(handler)
    if json_expected and not _is_json(request.headers.get("content-type", "")):
        raise HTTPException(status_code=415, detail="Send the body as application/json.")
