"""The HTTP applications' shape: every router, the error format, the security headers, of the
platform's API (``http_app``) and of the distributed notifier's own (``notifications_app``).
``parcours/bootstrap.py``, the composition root, builds their parts and runs their lifetime."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from parcours import devauth
from projections.caseload.api import router as caseload_router
from projections.contacts.api import router as contacts_router
from projections.dysfunctions.api import router as dysfunctions_router
from projections.ruptures.api import router as alerts_router
from services.casefile import routes as casefile
from services.fhir.api import router as fhir_router
from services.intake.api import router as intake_router
from services.intake.referrals import router as referrals_router
from services.notifications.api import router as notifications_router
from services.notifications.service import NotificationService
from services.web import app as web_pages
from services.web import docs as web_docs
from services.web.sessions import SessionLedger, Sessions
from services.web.settings import WebSettings
from shared.api import health, openapi
from shared.api.asgi import EditHeaders
from shared.api.auth import TokenVerifier
from shared.api.http import install_error_handlers
from shared.api.read_audit import AuditResponses
from shared.api.throttle import Failures
from shared.runtime.settings import Settings
from shared.storage.audit import AuditLog
from shared.storage.audit_anchor import AuditAnchor

DESCRIPTION = """Parcours : coordination des parcours des personnes âgées en situation complexe
suivies en gestion de cas (MAIA / DAC). Chaque parcours est un journal d'événements.

Chaque appel porte un jeton d'accès (`Authorization: Bearer …`). En mode embarqué, la page
[/login](/login) en délivre pour les utilisateurs fictifs de la démonstration."""

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cache-Control": "no-store",
}
# JSON and the plain login form need nothing from anywhere; the pages and the documentation
# have their own policies.
_DOCS = ("/docs", "/redoc", "/openapi.json")
_CSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def http_app(settings: Settings, lifespan: Lifespan) -> FastAPI:
    """The platform's API and pages; ``lifespan`` builds and runs what they are handed."""
    app = FastAPI(title="Parcours", description=DESCRIPTION, version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    install_error_handlers(app, settings.max_body_bytes,
                           Failures(settings.auth_max_failures, settings.auth_failure_window_s))
    app.add_middleware(AuditResponses)
    for router in (intake_router, *casefile.COMMANDS, casefile.reads.router, caseload_router,
                   alerts_router, casefile.alerts.router, contacts_router, dysfunctions_router,
                   fhir_router, casefile.vigilance.router):
        app.include_router(router)
    app.include_router(referrals_router)
    if settings.mode == "embedded":
        # In the distributed mode, `parcours notify` serves these routes itself.
        app.include_router(notifications_router)
    if settings.dev_key_path() is not None:
        devauth.check_mountable(settings)  # refuses to start, with its reason
        app.include_router(devauth.router)
    web = WebSettings()
    web_pages.install(app, web, Sessions(web.key(settings.data_dir), web.idle_minutes * 60,
                                         web.absolute_hours * 3600,
                                         SessionLedger(lambda: app.state.views)))
    web_docs.install(app)

    openapi.install(app)

    app.include_router(health.router(settings))

    def security_headers(scope: Scope, headers: MutableHeaders) -> None:
        path = scope["path"]
        headers.update(SECURITY_HEADERS)
        if web_pages.is_page(path):
            headers["Content-Security-Policy"] = web_pages.CSP
        elif path.startswith(_DOCS):
            headers["Content-Security-Policy"] = web_docs.CSP
        else:
            headers["Content-Security-Policy"] = _CSP

    app.add_middleware(EditHeaders, edit=security_headers)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-Correlation-Id"],
            expose_headers=["ETag", "Location"],
        )
    return app


def notifications_app(service: NotificationService, verifier: TokenVerifier,
                      anchor: AuditAnchor) -> FastAPI:
    """The distributed notifier's own API: the alerts' routes and its liveness."""
    app = FastAPI(title="Parcours — alertes",
                  description="Diffusion des alertes de rupture de parcours aux professionnels.",
                  version="0.1.0")
    install_error_handlers(app)
    app.add_middleware(AuditResponses)
    app.state.notifications, app.state.verifier = service, verifier
    app.state.audit = AuditLog(service.db, anchor)
    openapi.install(app)
    app.include_router(notifications_router)

    @app.get("/health", tags=["exploitation"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "service": "notifications"}

    return app
