"""The interactive API documentation at /docs, served from this machine.

FastAPI's own /docs and /redoc load Swagger UI and ReDoc from a public CDN, which an intranet
(and a browser with the network off) cannot reach. Swagger UI comes instead from the
``swagger-ui-bundle-v2`` package (its files, unchanged, under /static/swagger-ui); ReDoc has no
such package, so /redoc is not offered.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/static/swagger-ui"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def install(app: FastAPI) -> None:
    """Serve /docs with local assets (create the app with ``docs_url=None, redoc_url=None``)."""
    app.mount(
        ASSETS, StaticFiles(directory=Path(swagger_ui_bundle.swagger_ui_path)), name="swagger"
    )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – API",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
