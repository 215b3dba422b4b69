"""What every route of the case file takes from its path."""

from typing import Annotated
from uuid import UUID

from fastapi import Path

PathwayId = Annotated[UUID, Path(description="Identifiant du parcours")]
