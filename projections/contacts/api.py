"""Reads of the contact graph: care circles, rankings, pairs, gaps and exports."""

import re
from datetime import date
from typing import Annotated, Literal

import networkx as nx
from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from projections.contacts import export
from projections.contacts import graph as g
from projections.contacts import queries as q
from shared.api.http import (
    Authenticated,
    PrincipalDep,
    TodayDep,
    ViewsDep,
    reading,
    scoped_territory,
)
from shared.api.throttle import Busy, OneEach
from shared.domain.errors import InProgressError, PathwayNotFoundError
from shared.storage.sqldb import Database

EXPORTS = OneEach()
router = APIRouter(prefix="/graph", tags=["graphe des intervenants"],
                   dependencies=[Authenticated])

PathwayId = Annotated[str, Path(description="Identifiant du parcours")]
Day = Annotated[date | None, Query(description="Date (AAAA-MM-JJ) ; par défaut aujourd'hui")]
Period = Annotated[date | None, Query(
    description="Seulement ce qui était en cours à cette date ; sans date, tout l'historique")]
Territory = Annotated[str | None, Query(min_length=1, description="Code du territoire")]
Limit = Annotated[int, Query(ge=1, le=500, description="Nombre de lignes au plus")]


class CareCircle(BaseModel):
    pathway_id: str
    person: str
    territory: str
    on: date
    followed: bool
    members: list[g.CircleMember]


def _graph(views: ViewsDep, territory: str | None, day: date | None) -> nx.MultiGraph:
    with views.transaction() as tx:
        rows = q.rows(tx)
    return g.build_graph(rows.in_territory(territory).on(day))


@router.get("/persons/{pathway_id}/care-circle")
def care_circle(pathway_id: PathwayId, views: ViewsDep, today: TodayDep,
                _: Annotated[object, Depends(reading("graph-care-circle"))],
                on: Day = None) -> CareCircle:
    """Who intervenes for the person on a date: case manager, médecin traitant, services…"""
    day = on or today
    with views.transaction() as tx:
        rows = q.rows_of(tx, pathway_id)
    if not rows.persons:
        raise PathwayNotFoundError("Parcours inconnu du graphe des intervenants.",
                                   pathway_id=pathway_id)
    person = rows.persons[0]
    return CareCircle(
        pathway_id=pathway_id, person=person.label, territory=person.territory, on=day,
        followed=bool(rows.on(day).persons),
        members=g.care_circle(g.build_graph(rows), pathway_id, day),
    )


@router.get("/professionals/ranking")
def professionals(views: ViewsDep, principal: PrincipalDep, territory: Territory = None,
                  on: Period = None,
                  role: Annotated[str | None, Query(
                      description="Seulement ce rôle (attending_gp, nurse, case_manager…)")] = None,
                  limit: Limit = 20) -> list[g.ProfessionalRank]:
    """Professionals ranked by the number of persons they intervene for."""
    territory = scoped_territory(principal, territory)
    return g.professional_ranking(_graph(views, territory, on), role=role, limit=limit)


@router.get("/organisations/ranking")
def organisations(views: ViewsDep, principal: PrincipalDep, territory: Territory = None,
                  on: Period = None,
                  limit: Limit = 20) -> list[g.OrganisationRank]:
    """Organisations ranked by the number of persons their professionals intervene for."""
    territory = scoped_territory(principal, territory)
    return g.organisation_ranking(_graph(views, territory, on), limit=limit)


@router.get("/pairs")
def pairs(views: ViewsDep, principal: PrincipalDep, territory: Territory = None, on: Period = None,
          limit: Limit = 20) -> list[g.Pair]:
    """Pairs of professionals who intervene together, at the same time, for the most persons."""
    territory = scoped_territory(principal, territory)
    return g.pairs(_graph(views, territory, on), limit=limit)


@router.get("/persons-without-attending-gp")
def without_attending_gp(views: ViewsDep, principal: PrincipalDep, today: TodayDep,
                         territory: Territory = None, on: Day = None) -> list[g.WithoutGp]:
    """Persons followed on a date whose care circle has no médecin traitant that day."""
    territory = scoped_territory(principal, territory)
    with views.transaction() as tx:
        rows = q.rows(tx)
    return g.without_attending_gp(rows.in_territory(territory), on or today)


@router.get("/export", response_class=Response, responses={
    200: {"content": {"application/json": {}, export.GRAPHML_MEDIA_TYPE: {}},
          "description": "Le graphe en JSON nœuds-liens ou en GraphML"}})
def export_graph(views: ViewsDep, principal: PrincipalDep, territory: Territory = None,
                 on: Period = None,
                 export_format: Annotated[Literal["json", "graphml"], Query(
                     alias="format", description="json (nœuds-liens) ou graphml")] = "json",
                 ) -> Response:
    """The contact graph as node-link JSON or GraphML, for Gephi, yEd or a script. One export
    at a time per professional (429 ``request.in_progress`` while the previous one runs)."""
    territory = scoped_territory(principal, territory)
    try:
        with EXPORTS.hold(principal.id):
            return _export(views, territory, on, export_format)
    except Busy:
        raise InProgressError("Un export du graphe est déjà en cours pour vous : réessayez "
                              "quand il est terminé.", retry_after=5) from None


def _export(views: Database, territory: str | None, on: date | None,
            export_format: str) -> Response:
    graph = _graph(views, territory, on)
    if territory:
        graph.graph["territory"] = territory
    if on:
        graph.graph["on"] = on.isoformat()
    # The territory code goes into a header: keep only what is safe in a file name.
    suffix = re.sub(r"[^A-Za-z0-9_-]+", "_", territory) if territory else ""
    name = "graphe-intervenants" + (f"-{suffix}" if suffix else "")
    if export_format == "graphml":
        return Response(export.graphml(graph), media_type=export.GRAPHML_MEDIA_TYPE,
                        headers=_attachment(f"{name}.graphml"))
    return JSONResponse(export.node_link(graph), headers=_attachment(f"{name}.json"))


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}
