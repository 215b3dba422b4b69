"""The operations routes: ``/health`` (liveness) and ``/ready`` (readiness)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from shared.runtime import readiness
from shared.runtime.settings import Settings


def router(settings: Settings) -> APIRouter:
    """The two routes, bound to ``settings`` at build time: no dependency runs before them,
    so neither waits for a worker thread."""
    routes = APIRouter(tags=["exploitation"])

    @routes.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: the process answers. Async on purpose: it runs on the event loop, so it
        answers at once even when every worker thread waits for a database that is away."""
        return {"status": "ok", "mode": settings.mode}

    @routes.get("/ready", responses={503: {"description": "Indisponible"}})
    async def ready() -> JSONResponse:
        """Readiness for an orchestrator: which dependency is missing, if any."""
        dependencies = await readiness.check(settings)
        ok = all(state == "ok" for state in dependencies.values())
        return JSONResponse({"status": "ready" if ok else "unavailable",
                             "dependencies": dependencies}, 200 if ok else 503,
                            headers={} if ok else {"Retry-After": "5"})

    return routes
