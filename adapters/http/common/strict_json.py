"""JSON request bodies decode strictly: `0`, `1` and `"true"` are not booleans, nor `"12"` a number.

Litestar decodes a JSON body untyped, then converts it together with the query and the headers in msgspec's lax
mode, which strings from a query need but which takes `{"active": 0}` as false. The request class here decodes a
JSON body straight into the handler's type with ``strict=True`` instead. A refusal is not raised at once, which
would put it before authentication and preconditions: the body is handed on as a value that Litestar's conversion
refuses where it refuses any body, and the problem handler then reports msgspec's strict message
(``strict_refusal``). Invalid JSON still goes Litestar's way (400). docs/decisions/0037-strict-json-bodies.md.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import BodyKwarg

_REFUSAL: Final = "crm.strict_json.refusal"


class _RefusedBody:
    """Stands in for a body that strict decoding refused; no type converts from it."""


@cache
def _decoder(handler: HTTPRouteHandler) -> msgspec.json.Decoder[Any] | None:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    definition = data.kwarg_definition
    if isinstance(definition, BodyKwarg) and definition.media_type != RequestEncodingType.JSON:
        return None
    return msgspec.json.Decoder(data.annotation, strict=True)


class StrictJSONRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        handler = self.scope.get("route_handler")
        decoder = _decoder(handler) if isinstance(handler, HTTPRouteHandler) else None
        if decoder is None:
            return await super().json()
        try:
            return decoder.decode(await self.body())
        except msgspec.ValidationError as error:
            # The typed decoder stops at the first wrong value: a body that is also malformed or nested too deeply
            # further on is refused for that, as before (400).
            await super().json()
            self.scope.setdefault("state", {})[_REFUSAL] = str(error)
            return _RefusedBody()
        except msgspec.DecodeError:
            return await super().json()


def strict_refusal(request: Request[Any, Any, Any]) -> str | None:
    """msgspec's message when strict decoding refused this request's body, e.g.
    ``Expected `bool | null`, got `int` - at `$.active```."""
    refusal = request.scope.get("state", {}).get(_REFUSAL)
    return refusal if isinstance(refusal, str) else None
