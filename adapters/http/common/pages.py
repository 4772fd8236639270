"""Keyset pages: the next page's cursor in the body and in an RFC 8288 Link header."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request
from litestar.params import QueryParameter

# The two query parameters of every list endpoint.
PageLimit = Annotated[int, QueryParameter(name="limit", ge=1, le=100, description="Page size, 1-100.")]
PageCursor = Annotated[
    str | None,
    QueryParameter(name="cursor", max_length=1024, description="Opaque cursor from the previous page's next_cursor."),
]


def next_link(request: Request[Any, Any, Any], next_cursor: str | None) -> dict[str, str]:
    if next_cursor is None:
        return {}
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "cursor"]
    query.append(("cursor", next_cursor))
    return {"Link": f'<{request.scope["path"]}?{urlencode(query)}>; rel="next"'}
