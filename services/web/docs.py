"""``/docs`` and ``/redoc`` with their assets served by the platform: a machine without
internet still shows them. Both are vendored under ``static/`` from the npm registry, pinned:
``swagger-ui-dist@5.35.0`` (the first major to read OpenAPI 3.1, which FastAPI writes) and
``redoc@2.5.4``."""

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS = "/static/swagger-ui-5.35.0"
REDOC = "/static/redoc-2.5.4.standalone.js"
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
       "'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
       "frame-ancestors 'none'; base-uri 'none'")
"""Swagger UI and ReDoc start from a small inline script; everything else comes from here."""


def install(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="Parcours — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title="Parcours — API",
                              redoc_js_url=REDOC, with_google_fonts=False,
                              redoc_favicon_url=f"{ASSETS}/favicon-32x32.png")
