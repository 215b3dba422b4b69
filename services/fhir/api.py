"""FHIR R4 read API under /fhir: the same tokens, access rules and read audit as the rest of
Parcours (``shared.api.http.reading``); answers in ``application/fhir+json``, errors as
OperationOutcome."""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fhir.resources.R4B.resource import Resource

from services.fhir import resources as fhir
from services.fhir import sources
from services.fhir.timeline import episodes
from shared.api.http import AuditDep, JournalDep, PrincipalDep, TodayDep, reading, visible_events
from shared.domain.errors import ParcoursError, PathwayNotFoundError, UnauthenticatedError
from shared.domain.pathway import Pathway
from shared.domain.principal import Principal
from shared.journal.application import Journal
from shared.storage.audit import AuditLog

MEDIA_TYPE = "application/fhir+json"
_PUBLISHED = datetime.now(UTC).replace(microsecond=0)


class FhirResponse(Response):
    media_type = MEDIA_TYPE


def _answer(resource: Resource, status: int = 200) -> FhirResponse:
    return FhirResponse(resource.model_dump_json(exclude_none=True), status)


class SearchError(ParcoursError):
    code = "fhir.search_invalid"


_ISSUE = {PathwayNotFoundError: (404, "not-found"), UnauthenticatedError: (401, "login"),
          SearchError: (400, "invalid")}


class FhirRoute(APIRoute):
    """Answers the platform's errors as OperationOutcome, the shape FHIR clients read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except ParcoursError as error:
                status, code = _ISSUE.get(type(error), (403, "forbidden"))
                response = _answer(fhir.outcome(code, "error", error.message, error.code),
                                   status)
                if status == 401:
                    response.headers["WWW-Authenticate"] = "Bearer"
                return response
            except RequestValidationError:
                return _answer(fhir.outcome("invalid", "error", "Requête FHIR invalide.",
                                            "request.invalid"), 400)

        return route


router = APIRouter(prefix="/fhir", tags=["FHIR R4"], route_class=FhirRoute)


@dataclass(frozen=True)
class Reader:
    """Who reads, and what a read needs."""

    request: Request
    principal: Principal
    today: date
    journal: Journal
    audit: AuditLog


def _reader(request: Request, principal: PrincipalDep, today: TodayDep, journal: JournalDep,
            audit: AuditDep) -> Reader:
    return Reader(request, principal, today, journal, audit)


ReaderDep = Annotated[Reader, Depends(_reader)]


class Record:
    """Everything the resources of one person are built from."""

    def __init__(self, pathway: Pathway, reader: Reader) -> None:
        self.pathway = pathway
        # Only the episodes this reader may see: another territory's stay the other territory
        # did not share never leaves, here either.
        self.episodes = episodes(visible_events(reader.journal, reader.principal, pathway.id,
                                                reader.today))

    def of_type(self, resource_type: str) -> list[Resource]:
        pid, territory = self.pathway.id, self.pathway.territory
        found: list[Resource] = []
        for episode in self.episodes:
            if resource_type == "EpisodeOfCare":
                found.append(fhir.episode_of_care(pid, territory, episode))
            elif resource_type == "CarePlan":
                found.extend(fhir.care_plans(pid, episode))
            elif resource_type == "CareTeam" and episode.decision == "admitted":
                found.append(fhir.care_team(pid, territory, episode))
            elif resource_type == "Encounter":
                found.extend(fhir.encounters(pid, episode))
        if resource_type == "Flag":
            found.extend(fhir.flags(pid, list(self.pathway.alerts.values())))
        if resource_type == "Patient" and self.pathway.person:
            found.append(fhir.patient(pid, self.pathway.person,
                                      self.pathway.identity_qualified_by))
        return found


SEARCHABLE = ("EpisodeOfCare", "CarePlan", "CareTeam", "Encounter", "Flag")


def _load(reader: Reader, pathway_id: str, action: str) -> Pathway:
    """The pathway, if the caller may read the person's file; the read is audited."""
    try:
        parsed = UUID(pathway_id)
    except ValueError:
        raise PathwayNotFoundError("Ressource introuvable.") from None
    load: Callable[..., Pathway] = reading(action)
    return load(parsed, reader.request, reader.principal, reader.today, reader.journal,
                reader.audit)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir"


@router.get("/metadata", response_class=FhirResponse)
def metadata() -> Response:
    """The server's CapabilityStatement (no personal data: no token needed)."""
    return _answer(fhir.capability_statement(_PUBLISHED))


@router.get("/Patient", response_class=FhirResponse)
def search_patients(request: Request, reader: ReaderDep,
                    identifier: Annotated[str, Query(
                        description=f"{fhir.INS_SYSTEM}|<INS>")]) -> Response:
    """Patients by INS. Prefer ``POST /fhir/Patient/_search``: an identifier in a URL ends up
    in the logs of every proxy on the way."""
    return _patients_by_ins(request, reader, identifier)


@router.post("/Patient/_search", response_class=FhirResponse)
def search_patients_posted(request: Request, reader: ReaderDep,
                           identifier: Annotated[str, Form(
                               description=f"{fhir.INS_SYSTEM}|<INS>")]) -> Response:
    """Patients by INS, the identifier in the body (FHIR search by POST)."""
    return _patients_by_ins(request, reader, identifier)


def _patients_by_ins(request: Request, reader: Reader, identifier: str) -> Response:
    system, _, value = identifier.rpartition("|")
    if system not in ("", fhir.INS_SYSTEM):
        raise SearchError(f"Seul l'identifiant INS ({fhir.INS_SYSTEM}) est recherchable.")
    pathway_id = sources.pathway_of_ins(reader.journal, value)
    found: list[Resource] = []
    if pathway_id is not None:
        try:
            pathway = _load(reader, str(pathway_id), "fhir-patient")
            found = Record(pathway, reader).of_type("Patient")
        except PathwayNotFoundError:
            pass  # not readable by this caller: as if nobody had that INS
    return _answer(fhir.bundle(found, _base(request), str(request.url)))


@router.get("/Patient/{pathway_id}", response_class=FhirResponse)
def read_patient(pathway_id: str, reader: ReaderDep) -> Response:
    """The person (FR Core Patient with the INS)."""
    pathway = _load(reader, pathway_id, "fhir-patient")
    found = Record(pathway, reader).of_type("Patient")
    if not found:
        raise PathwayNotFoundError("Ressource introuvable.")
    return _answer(found[0])


@router.get("/Patient/{pathway_id}/$everything", response_class=FhirResponse)
def everything(pathway_id: str, request: Request, reader: ReaderDep) -> Response:
    """Everything about the person: Patient, episodes, plans, care teams, stays, alerts."""
    record = Record(_load(reader, pathway_id, "fhir-everything"), reader)
    found = [r for kind in ("Patient", *SEARCHABLE) for r in record.of_type(kind)]
    return _answer(fhir.bundle(found, _base(request), str(request.url)))


def _search(resource_type: str) -> Callable[..., Response]:
    def search(request: Request, reader: ReaderDep,
               patient: Annotated[str, Query(description="Patient/<id> ou <id>")]) -> Response:
        pathway_id = patient.removeprefix("Patient/")
        try:
            pathway = _load(reader, pathway_id, f"fhir-{resource_type.lower()}")
            found = Record(pathway, reader).of_type(resource_type)
        except PathwayNotFoundError:
            found = []  # not readable by this caller: as if there were nothing
        return _answer(fhir.bundle(found, _base(request), str(request.url)))

    search.__doc__ = f"{resource_type} of a patient."
    return search


def _read(resource_type: str) -> Callable[..., Response]:
    def read(resource_id: str, reader: ReaderDep) -> Response:
        # Ids are "<pathway id>-…": the pathway decides who may read them.
        pathway = _load(reader, resource_id[:36], f"fhir-{resource_type.lower()}")
        for resource in Record(pathway, reader).of_type(resource_type):
            if resource.id == resource_id:
                return _answer(resource)
        raise PathwayNotFoundError("Ressource introuvable.")

    read.__doc__ = f"One {resource_type}."
    return read


for _type in SEARCHABLE:
    router.add_api_route(f"/{_type}", _search(_type), methods=["GET"],
                         response_class=FhirResponse, name=f"search_{_type}")
    if _type != "Flag":  # a Flag's id is its alert's: searched by patient only
        router.add_api_route(f"/{_type}/{{resource_id}}", _read(_type), methods=["GET"],
                             response_class=FhirResponse, name=f"read_{_type}")
