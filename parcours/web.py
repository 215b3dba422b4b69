"""The HTTP application: every router, the error format, the security headers, and the
platform's lifetime."""

from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders
from starlette.types import Scope

from parcours import devauth
from parcours.platform import Background, build_platform
from projections.caseload.api import router as caseload_router
from projections.contacts.api import router as contacts_router
from projections.dysfunctions.api import router as dysfunctions_router
from projections.ruptures.api import router as alerts_router
from services.casefile.api import router as casefile_router
from services.casefile.reads import router as casefile_reads
from services.casefile.vigilance import router as vigilance_router
from services.fhir.api import router as fhir_router
from services.hl7.bootstrap import build_listener
from services.hl7.listener import running as hl7_running
from services.intake.api import router as intake_router
from services.intake.referrals import router as referrals_router
from services.notifications.api import router as notifications_router
from services.web import app as web_pages
from services.web import docs as web_docs
from shared.api import health, openapi
from shared.api.asgi import EditHeaders
from shared.api.http import install_error_handlers, provide
from shared.api.read_audit import AuditResponses
from shared.api.throttle import Failures
from shared.domain.clock import Clock, system_clock
from shared.runtime.settings import Settings

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


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = build_platform(settings, clock)
        provide(app, settings=settings, journal=platform.journal, views=platform.views,
                verifier=platform.verifier, audit=platform.audit, clock=platform.clock,
                catch_up=platform.catch_up)
        app.state.platform = platform  # for tests and tools that drive the embedded mode
        notifications = platform.notifications
        with ExitStack() as running:
            if notifications is not None:
                app.state.notifications = notifications
                running.enter_context(notifications.dispatcher_thread())
                running.callback(notifications.hub.close)  # ends the open alert streams
            running.enter_context(Background(platform, settings.scheduler_interval_s))
            if settings.mode == "embedded" and settings.hl7_port is not None:
                # The hospitals' ADT feed, in the same process as the embedded journal.
                listener = build_listener(settings, platform.journal, platform.views, clock)
                app.state.hl7_port = running.enter_context(hl7_running(listener))
            yield
        platform.views.close()
        platform.journal.close()

    app = FastAPI(title="Parcours", description=DESCRIPTION, version="0.1.0", lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    install_error_handlers(app, settings.max_body_bytes,
                           Failures(settings.auth_max_failures, settings.auth_failure_window_s))
    app.add_middleware(AuditResponses)
    for router in (intake_router, casefile_router, casefile_reads, caseload_router,
                   alerts_router, contacts_router, dysfunctions_router, fhir_router):
        app.include_router(router)
    app.include_router(vigilance_router)
    app.include_router(referrals_router)
    if settings.mode == "embedded":
        # In the distributed mode, `parcours notify` serves these routes itself.
        app.include_router(notifications_router)
    if settings.dev_key_path() is not None:
        devauth.check_mountable(settings)  # refuses to start, with its reason
        app.include_router(devauth.router)
    web_pages.install(app, settings)
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
