"""The API documentation: Swagger UI at /docs and the OpenAPI schema at /openapi.json, open to
whom the ``api.docs`` setting says.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script. The app's
Content-Security-Policy (``headers.py``) blocks both, and an OCC network may reach no CDN at
all. So Swagger UI's files come from the ``fastapi-offline`` package, installed with SafeCity
(Swagger UI is Apache-2.0, the package MIT); the page below loads only files from this server,
and ``web/static/js/api-docs.js`` starts Swagger UI. ReDoc is not offered: one viewer is enough.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from safecity.api.deps import get_current_user
from safecity.settings import ApiSettings

SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
"""``swagger-ui-bundle.js`` and ``swagger-ui.css`` as the package ships them."""

PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>SafeCity API</title>
    <link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
    <link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
    <script src="/docs/swagger-ui/swagger-ui-bundle.js"></script>
    <script src="/static/js/api-docs.js"></script>
  </body>
</html>
"""


def add_api_docs(app: FastAPI, api: ApiSettings) -> None:
    """Serve the page and the schema as ``api.docs`` says; with "off", neither exists (404).
    The app must be made with ``openapi_url``, ``docs_url`` and ``redoc_url`` None, or FastAPI
    serves its own, to anybody."""
    if api.docs == "off":
        return
    # Swagger UI's own files are public code, served to anybody: only the schema says anything.
    guard = [Depends(get_current_user)] if api.docs == "signed_in" else []

    @app.get("/openapi.json", include_in_schema=False, dependencies=guard)
    def openapi(request: Request) -> JSONResponse:
        return JSONResponse(request.app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=guard)
    def docs() -> HTMLResponse:
        return HTMLResponse(PAGE, headers={"Cache-Control": "no-cache"})

    app.mount("/docs/swagger-ui", StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
