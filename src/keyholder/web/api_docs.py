"""``/api/docs``: Swagger UI served from this package, so the docs work offline.

FastAPI's own docs page loads Swagger UI from a CDN: blank on a machine without
internet, and a third party's script running next to a signed-in session. Here
the files come from ``web/ui/static/swagger-ui/`` (swagger-ui-dist, see
``VERSION`` there for the version and licence) and the page starts it with a
script of ours, so its Content-Security-Policy allows scripts from this origin
only. Swagger UI sets styles from script, hence ``style-src 'unsafe-inline'``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from keyholder.web.ui.rendering import HERE

SWAGGER_UI = HERE / "static" / "swagger-ui"
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
}
# Only files known at start-up are served: no path from the request reaches the disk.
_FILES = {
    path.name: path for path in SWAGGER_UI.iterdir() if path.is_file() and path.suffix in _TYPES
}
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Keyholder API</title>
  <link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
  <link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png">
</head>
<body>
  <main id="swagger-ui" data-openapi="{openapi_url}"></main>
  <script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/api-docs.js"></script>
</body>
</html>
"""


def docs_router(openapi_url: str) -> APIRouter:
    """The page at ``/api/docs`` and Swagger UI's files, for the document at ``openapi_url``."""
    router = APIRouter(include_in_schema=False)
    page = DOCS_PAGE.replace("{openapi_url}", openapi_url)

    @router.get("/api/docs")
    def api_docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get("/static/swagger-ui/{name}")
    def swagger_ui_file(name: str) -> Response:
        path = _FILES.get(name)
        if path is None:
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            path.read_bytes(),
            media_type=_TYPES[path.suffix],
            headers={"Cache-Control": "public, max-age=3600"},
        )

    return router
