"""The HTTP application: every router, the error format, and the platform's lifetime."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from parcours.platform import BackgroundCatchUp, build_platform
from projections.caseload.api import router as caseload_router
from services.casefile.api import router as casefile_router
from services.casefile.reads import router as casefile_reads
from services.intake.api import router as intake_router
from shared.http import install_error_handlers
from shared.settings import Settings, get_settings

DESCRIPTION = """Parcours : coordination des parcours des personnes âgées en situation complexe
suivies en gestion de cas (MAIA / DAC). Chaque parcours est un journal d'événements."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = build_platform(settings)
        app.state.platform = platform
        with BackgroundCatchUp(platform):
            yield
        platform.views.close()
        platform.journal.close()

    app = FastAPI(title="Parcours", description=DESCRIPTION, version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.include_router(intake_router)
    app.include_router(casefile_router)
    app.include_router(casefile_reads)
    app.include_router(caseload_router)

    @app.get("/health", tags=["exploitation"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "mode": settings.mode}

    return app
