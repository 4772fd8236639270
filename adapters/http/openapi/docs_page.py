"""/docs: Swagger UI served by the service itself, so that it works with no internet access.

The Swagger UI files the page loads (and only those: the bundle, its style sheet and the icon) are vendored
in ``docs_assets/swagger-ui/`` (Swagger UI 5.25.3, Apache 2.0; see the NOTICE there) and served from
/docs/assets/; the page has no inline script or style, which lets its Content-Security-Policy
(response_headers.DOCS_CSP) allow nothing but this origin.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from typing import Any

from litestar import Request, Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath

ASSETS_PATH = "/assets"
_SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
_OUR_FILES = {"docs.js": "text/javascript; charset=utf-8"}
# The files change only with the vendored version; a day keeps reloads cheap without pinning old ones long.
_CACHE = {"Cache-Control": "public, max-age=86400"}


@cache
def _asset(name: str) -> tuple[bytes, str]:
    assets = resources.files("adapters.http.openapi").joinpath("docs_assets")
    if name in _SWAGGER_UI_FILES:
        return assets.joinpath("swagger-ui", name).read_bytes(), _SWAGGER_UI_FILES[name]
    if name in _OUR_FILES:
        return assets.joinpath(name).read_bytes(), _OUR_FILES[name]
    raise NotFoundException(f"No documentation asset {name!r}.")


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    data, media_type = _asset(name)
    return Response(data, media_type=media_type, headers=_CACHE)


class OfflineSwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI from this service's own files, with no CDN and no inline code."""

    def __init__(self, path: str = "/") -> None:
        super().__init__(path=path)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        base = request.app.openapi_config.path if request.app.openapi_config else "/docs"
        assets = f"{base}{ASSETS_PATH}"
        title = escape(str(openapi_schema["info"]["title"]))
        openapi_url = escape(self.get_openapi_json_route(request))
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n'
            '<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            f'<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">\n'
            f'<link rel="stylesheet" href="{assets}/swagger-ui.css">\n'
            f'<script src="{assets}/swagger-ui-bundle.js" defer></script>\n'
            f'<script src="{assets}/docs.js" defer></script>\n'
            "</head>\n"
            f'<body data-openapi-url="{openapi_url}">\n<div id="swagger-ui"></div>\n</body>\n</html>\n'
        ).encode()

    def receive_router(self, router: Router) -> None:
        router.register(docs_asset)
