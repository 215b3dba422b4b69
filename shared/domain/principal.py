"""Who is acting: a professional's identity, role and territory, as the token says."""

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["referrer", "case_manager", "coordinator", "analyst", "administrator"]
ROLES: tuple[str, ...] = get_args(Role)

@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    role: Role
    territory: str | None
