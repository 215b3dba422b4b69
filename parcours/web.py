"""The HTTP application: every router, the error format, and the platform's lifetime."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from parcours.platform import Background, build_platform
from projections.caseload.api import router as caseload_router
from projections.contacts.api import router as contacts_router
from projections.dysfunctions.api import router as dysfunctions_router
from projections.ruptures.api import router as alerts_router
from projections.ruptures.scheduler import Clock, system_clock
from services.casefile.api import router as casefile_router
from services.casefile.reads import router as casefile_reads
from services.intake.api import router as intake_router
from shared.http import install_error_handlers
from shared.settings import Settings

DESCRIPTION = """Parcours : coordination des parcours des personnes âgées en situation complexe
suivies en gestion de cas (MAIA / DAC). Chaque parcours est un journal d'événements."""


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = build_platform(settings, clock)
        app.state.platform = platform
        with Background(platform, settings.scheduler_interval_s):
            yield
        platform.views.close()
        platform.journal.close()

    app = FastAPI(title="Parcours", description=DESCRIPTION, version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(intake_router)
    app.include_router(casefile_router)
    app.include_router(casefile_reads)
    app.include_router(caseload_router)
    app.include_router(alerts_router)
    app.include_router(contacts_router)
    app.include_router(dysfunctions_router)

    @app.get("/health", tags=["exploitation"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "mode": settings.mode}

    return app
