"""A hospital's correction of a movement it told: PAM.fr's ZBE-4 ``UPDATE`` (with ZBE-1 naming
the movement, on the movement's own trigger or ``Z99``) and ADT A08 (the visit in progress).

The message gives the movement's values as they are now; the pathway gets a
``MovementCorrected`` fact with the values that differ from what it holds, and nothing when
none does. Identity traits an A08 carries are never applied: the referral's identity is the
coordinator's to correct. Pure: no I/O."""

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from shared.domain.pathway import Pathway
from shared.domain.records import Stay
from shared.events.payloads import (
    DischargeDestination,
    MovementCorrected,
    MovementKind,
    StayKind,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Correction:
    """What the message says the movement is now; None where it says nothing."""

    movement_id: str | None
    """ZBE-1 of an UPDATE; None for an A08, which is about the stay in progress."""
    establishment: str
    ward: str | None
    admitted_at: datetime | None
    moved_at: datetime | None
    discharged_at: datetime | None
    kind: StayKind | None
    destination: DischargeDestination | None

    def facts(self, pathway: Pathway, target: UUID | None) -> list[MovementCorrected]:
        """The corrections to record: of the movement ``target`` (the event its ZBE-1 became),
        or, for an A08, of the open stay's admission and current unit."""
        if target is None:
            return self._visit(pathway)
        movement = pathway.movement_told_by(target)
        stay = pathway.open_stay or pathway.discharged_stay
        if movement is None or stay is None:
            return []  # an older movement, or one cancelled since: nothing it still shapes
        located = pathway.open_stay is not None and \
            str(target) == pathway.state.stay_location_event_id
        if movement == "admission":
            return _fact(target, movement, self.movement_id,
                         at=_differs(self.admitted_at, stay.admitted_at),
                         kind=_differs(self.kind, stay.kind),
                         **(self._unit(stay) if located else {}))
        if movement == "transfer":
            return _fact(target, movement, self.movement_id,
                         at=_differs(self.moved_at, stay.located_at), **self._unit(stay))
        discharge = pathway.follow_up.last_discharge
        assert discharge is not None
        return _fact(target, movement, self.movement_id,
                     at=_differs(self.discharged_at, discharge.discharged_at),
                     destination=_differs(self.destination, discharge.destination))

    def _visit(self, pathway: Pathway) -> list[MovementCorrected]:
        """A08: the visit part applies to the stay in progress at this establishment."""
        stay, state = pathway.open_stay, pathway.state
        if stay is None or not same(stay.establishment, self.establishment) or \
                self.discharged_at is not None or state.stay_event_id is None:
            return []
        admission = UUID(state.stay_event_id)
        location = UUID(state.stay_location_event_id) if state.stay_location_event_id else None
        changes = {"at": _differs(self.admitted_at, stay.admitted_at),
                   "kind": _differs(self.kind, stay.kind)}
        if location == admission:
            return _fact(admission, "admission", None, **changes, **self._unit(stay))
        found = _fact(admission, "admission", None, **changes)
        if location is not None:
            found += _fact(location, "transfer", None, **self._unit(stay))
        return found

    def _unit(self, stay: Stay) -> dict[str, str | None]:
        return {"ward": _other(self.ward, stay.ward),
                "establishment": _other(self.establishment, stay.establishment)}


def _fact(target: UUID, movement: MovementKind, movement_id: str | None,
          **changes: object) -> list[MovementCorrected]:
    if all(value is None for value in changes.values()):
        return []
    return [MovementCorrected.model_validate({
        "movement_event_id": target, "movement": movement, "movement_id": movement_id,
        **{name: value for name, value in changes.items() if value is not None}})]


def _differs(new: T | None, known: object) -> T | None:
    """The message's value when it gives one that is not what Parcours holds."""
    return None if new is None or new == known else new


def _other(new: str | None, known: str) -> str | None:
    """A name the message gives that is not the one Parcours holds, case and spacing aside."""
    return None if not new or same(new, known) else new


def same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()
