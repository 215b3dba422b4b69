"""What every route of the case file takes from its path, and the router they hang from."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path

from shared.api.http import Authenticated

PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]


def pathway_router() -> APIRouter:
    """A router for one resource of a pathway's file: under ``/pathways/{pathway_id}``, in the
    file's OpenAPI section, for signed-in professionals only."""
    return APIRouter(prefix="/pathways/{pathway_id}", tags=["dossier"],
                     dependencies=[Authenticated])
