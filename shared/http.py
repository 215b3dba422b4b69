"""What every HTTP entrypoint shares: dependencies, the error format and the command answer."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shared.events import Actor
from shared.pathway.application import Journal
from shared.pathway.commands import Meta
from shared.pathway.domain import Pathway
from shared.pathway.errors import ConcurrentChangeError, PathwayError, PathwayNotFoundError
from shared.settings import Settings
from shared.sqldb import Database


@dataclass
class Platform:
    """The parts an entrypoint needs, built once by the composition root."""

    settings: Settings
    journal: Journal
    views: Database
    catch_up: Callable[[], object] = lambda: None
    tick: Callable[[], object] = lambda: None
    """Embedded mode: catch up the views and fire the alerts that fell due."""


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def _journal(request: Request) -> Journal:
    return _platform(request).journal


def _settings(request: Request) -> Settings:
    return _platform(request).settings


def _views(request: Request) -> Database:
    platform = _platform(request)
    platform.catch_up()  # embedded mode: a read follows the writes already made
    return platform.views


def _meta(
    x_actor_id: Annotated[str, Header(min_length=1, description="Identifiant du professionnel")],
    x_actor_role: Annotated[str, Header(min_length=1, description="Rôle du professionnel")],
    x_correlation_id: Annotated[UUID | None, Header()] = None,
) -> Meta:
    # Until authentication lands, the actor is declared by the caller in two headers.
    return Meta(
        actor=Actor(id=x_actor_id, role=x_actor_role),
        correlation_id=x_correlation_id or uuid4(),
    )


def _expected_version(
    if_match: Annotated[str | None, Header(description="Version attendue du parcours")] = None,
) -> int | None:
    if if_match is None:
        return None
    value = if_match.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise RequestValidationError(
            [{"loc": ("header", "if-match"), "msg": "If-Match doit être un numéro de version",
              "type": "value_error"}]
        )
    return int(value)


JournalDep = Annotated[Journal, Depends(_journal)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ViewsDep = Annotated[Database, Depends(_views)]
MetaDep = Annotated[Meta, Depends(_meta)]
ExpectedVersionDep = Annotated[int | None, Depends(_expected_version)]


class CommandResult(BaseModel):
    pathway_id: UUID
    version: int
    status: str


def command_result(pathway: Pathway, response: Response) -> CommandResult:
    response.headers["ETag"] = f'"{pathway.version}"'
    return CommandResult(pathway_id=pathway.id, version=pathway.version, status=pathway.status)


def error_body(code: str, message: str, **details: object) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PathwayError)
    def _domain(_: Request, error: PathwayError) -> JSONResponse:
        status = 404 if isinstance(error, PathwayNotFoundError) else 409
        headers = {}
        if isinstance(error, ConcurrentChangeError) and error.details.get("current_version"):
            headers["ETag"] = f'"{error.details["current_version"]}"'
        return JSONResponse(error_body(error.code, error.message, **error.details), status,
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": ".".join(str(part) for part in e["loc"]), "message": e["msg"]}
            for e in error.errors()
        ]
        return JSONResponse(
            error_body("request.invalid", "Requête invalide : corrigez les champs indiqués.",
                       fields=fields),
            422,
        )

    @app.exception_handler(Exception)
    def _unexpected(_: Request, error: Exception) -> JSONResponse:
        # Never a stack trace to a client; the log keeps it.
        return JSONResponse(
            error_body("server.error", "Erreur interne : réessayez, puis contactez le support."),
            500,
        )
