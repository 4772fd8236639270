"""Security headers, the request id and cache policy on every response, including errors and 404s.

Added by the ASGI layer around the whole application (``adapters.http.edge.middleware``), so that no response can
leave without them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The documentation page (docs_page.py): Swagger UI's files and its starter script from this origin, no
# inline script. Swagger UI sets style attributes and uses data: URIs for its icons; it calls the API
# and the token endpoint on this origin only.
DOCS_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PHOTO_CSP = b"default-src 'none'; img-src 'self'; sandbox"

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-site"),
)


def _csp_for(path: str) -> bytes:
    if path == "/docs" or path.startswith("/docs/"):
        return DOCS_CSP
    if path.startswith("/photos/"):
        return PHOTO_CSP
    return API_CSP


def add_security_headers(headers: list[tuple[bytes, bytes]], path: str, request_id: bytes) -> None:
    """Add to a response's ``headers`` what every answer carries, unless the handler set its own."""
    present = {name.lower() for name, _ in headers}
    headers.extend(header for header in _ALWAYS if header[0] not in present)
    if b"content-security-policy" not in present:
        headers.append((b"content-security-policy", _csp_for(path)))
    headers.append((b"x-request-id", request_id))
    # API answers are personal data: never cached by browsers or proxies.
    if b"cache-control" not in present and path.startswith("/api/"):
        headers.append((b"cache-control", b"no-store"))
