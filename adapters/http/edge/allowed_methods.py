"""The Allow header of OPTIONS answers lists every method of the resource.

Litestar builds the OPTIONS handler of a path while it registers that path's handlers one by one, and
the handler keeps the method list of the moment it was built; ``adapters.http.edge.middleware`` answers from the
final routes listed here.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.routes import HTTPRoute


def methods_by_path(routes: Iterable[object]) -> dict[str, str]:
    found: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, HTTPRoute):
            found.setdefault(route.path_format, set()).update(str(method) for method in route.methods)
    return {path: ", ".join(sorted(methods)) for path, methods in found.items()}
