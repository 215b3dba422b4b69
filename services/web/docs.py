"""``/docs`` and ``/redoc`` with their assets served by the platform: a machine without
internet still shows them. Both are vendored under ``static/`` from the npm registry, pinned:
``swagger-ui-dist@5.35.0`` (the first major to read OpenAPI 3.1, which FastAPI writes) and
``redoc@2.5.4``."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

ASSETS = "/static/swagger-ui-5.35.0"
REDOC = "/static/redoc-2.5.4.standalone.js"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; "
       "base-uri 'none'")
"""Scripts from the platform only (Swagger UI's initialiser is a file; ReDoc starts from its
element); both viewers set styles from script, hence inline styles."""

_HEAD = ('<!doctype html><html lang="fr"><head><meta charset="utf-8">'
         '<meta name="viewport" content="width=device-width, initial-scale=1">'
         f'<title>Parcours — API</title><link rel="icon" href="{ASSETS}/favicon-32x32.png">')
SWAGGER = (f'{_HEAD}<link rel="stylesheet" href="{ASSETS}/swagger-ui.css"></head><body>'
           '<div id="swagger-ui"></div>'
           f'<script src="{ASSETS}/swagger-ui-bundle.js"></script>'
           '<script src="/static/docs-init.js"></script></body></html>')
REDOC_PAGE = (f'{_HEAD}</head><body><redoc spec-url="/openapi.json" hide-loading></redoc>'
              f'<script src="{REDOC}"></script></body></html>')


def install(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return HTMLResponse(SWAGGER)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(REDOC_PAGE)
