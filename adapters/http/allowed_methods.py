"""The Allow header of OPTIONS answers lists every method of the resource.

Litestar builds the OPTIONS handler of a path while it registers that path's handlers one by one, and
the handler keeps the method list of the moment it was built; this layer answers from the final routes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from litestar.routes import HTTPRoute

from adapters.http.response_headers import ASGIApp, Message, Receive, Scope, Send


def methods_by_path(routes: Iterable[object]) -> dict[str, str]:
    found: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, HTTPRoute):
            found.setdefault(route.path_format, set()).update(str(method) for method in route.methods)
    return {path: ", ".join(sorted(methods)) for path, methods in found.items()}


class AllowedMethods:
    def __init__(self, app: ASGIApp, allowed: Mapping[str, str]) -> None:
        self.app = app
        self.allowed = {path: value.encode() for path, value in allowed.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":
            await self.app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            allowed = self.allowed.get(scope.get("path_template", ""))
            if message["type"] == "http.response.start" and allowed is not None:
                headers = message.get("headers", ())
                if any(name.lower() == b"allow" for name, _ in headers):
                    message["headers"] = [(n, v) for n, v in headers if n.lower() != b"allow"] + [(b"allow", allowed)]
            await send(message)

        await self.app(scope, receive, send_with_allow)
