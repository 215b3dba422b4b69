"""The follow-up state of a pathway's current episode, folded from its events.

One fold serves the aggregate (what the file shows and what clears an alert), the caseload
view (where the person is, what is due) and the rupture rules (what falls due when), so the
three can never disagree on which evaluation is the last or when a stay began."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from shared import events as ev
from shared.domain.commands import Policy
from shared.events import values


class Member(BaseModel):
    member_id: str
    name: str
    role: str
    joined_on: date
    left_on: date | None = None


class FollowUpState(BaseModel):
    pathway_id: str
    territory: str
    person_label: str
    status: str = "awaiting_decision"
    admitted_on: date | None = None
    case_manager: values.Recipient | None = None
    members: list[Member] = []
    stay_event_id: str | None = None
    stay_since: datetime | None = None
    stay_establishment: str | None = None
    stay_location_event_id: str | None = None
    """The event that set the stay's current unit (the admission, a change of unit, a
    cancellation): a hospital's correction of it changes where the person is."""
    discharged_stay_event_id: str | None = None
    discharge_event_id: str | None = None
    discharged_at: datetime | None = None
    discharged_home: bool = False
    letter_received: bool = True
    last_evaluated_on: date | None = None
    plan_revision: int = 0
    plan_revised_at: datetime | None = None
    plan_validated: bool = False
    last_manager_note_on: date | None = None
    last_contact_on: date | None = None

    def active_members(self, day: date) -> list[Member]:
        return [m for m in self.members
                if m.joined_on <= day and (m.left_on is None or day < m.left_on)]

    @property
    def discharged_home_on(self) -> date | None:
        return self.discharged_at.date() if self.discharged_home and self.discharged_at else None

    def next_evaluation_due(self, policy: Policy) -> date | None:
        """The periodic evaluation's due date, or sooner the return evaluation after a
        discharge home; None outside an active episode."""
        if self.status != "active" or self.admitted_on is None:
            return None
        return policy.next_evaluation_due(self.admitted_on, self.last_evaluated_on,
                                          self.discharged_home_on)


def begin(pathway_id: UUID | str, referral: ev.Referred) -> FollowUpState:
    """The state at the start of an episode."""
    person = referral.person
    return FollowUpState(pathway_id=str(pathway_id), territory=referral.territory,
                         person_label=f"{person.given_names} {person.family_name}")


def evolve(state: FollowUpState, payload: ev.Payload, event_id: UUID, occurred_at: datetime,
           actor_id: str) -> None:
    """The follow-up state after one more event of the current episode."""
    match payload:
        case ev.Admitted():
            state.status, state.admitted_on = "active", payload.decided_on
        case ev.AdmissionRefused():
            state.status = "refused"
        case ev.CaseManagerAssigned():
            state.case_manager = values.Recipient(professional_id=payload.case_manager_id,
                                                  name=payload.case_manager_name,
                                                  role="case_manager")
        case ev.IdentityCorrected():
            state.person_label = f"{payload.given_names} {payload.family_name}"
        case ev.MemberJoined():
            joined = payload.member
            state.members.append(Member(member_id=joined.member_id, name=joined.name,
                                        role=joined.role, joined_on=payload.joined_on))
        case ev.MemberLeft():
            for member in state.members:
                if member.member_id == payload.member_id and member.left_on is None:
                    member.left_on = payload.left_on
        case ev.Hospitalised():
            state.stay_event_id, state.stay_since = str(event_id), payload.admitted_at
            state.stay_establishment = payload.establishment
            state.stay_location_event_id = str(event_id)
        case ev.StayTransferred():
            state.stay_establishment = payload.establishment
            state.stay_location_event_id = str(event_id)
        case ev.Discharged():
            state.discharged_stay_event_id = state.stay_event_id
            state.stay_event_id = state.stay_since = state.stay_establishment = None
            state.stay_location_event_id = None
            state.discharge_event_id = str(event_id)
            state.discharged_at = payload.discharged_at
            state.discharged_home = payload.destination == "home"
            state.letter_received = payload.discharge_letter_received
        case ev.DischargeLetterReceived():
            state.letter_received = True
        case ev.Evaluated():
            state.last_evaluated_on = _latest(state.last_evaluated_on, payload.evaluated_on)
        case ev.PlanRevised():
            state.plan_revision, state.plan_revised_at = payload.revision, occurred_at
            state.plan_validated = False
        case ev.PlanValidated() if payload.revision == state.plan_revision:
            state.plan_validated = True
        case ev.FollowUpNoted():
            state.last_contact_on = _latest(state.last_contact_on, payload.contact_on)
            if state.case_manager and actor_id == state.case_manager.professional_id:
                state.last_manager_note_on = _latest(state.last_manager_note_on,
                                                     payload.contact_on)
        case ev.Closed():
            state.status = "closed"
            state.stay_event_id = state.stay_since = state.stay_establishment = None
            state.stay_location_event_id = None
        case ev.AdmissionCancelled():  # from a hospital's feed: the stay never was
            state.stay_event_id = state.stay_since = state.stay_establishment = None
            state.stay_location_event_id = None
        case ev.TransferCancelled():
            state.stay_establishment = payload.establishment
            state.stay_location_event_id = str(event_id)
        case ev.DischargeCancelled():  # the same stay goes on: its R1 does not fire again
            state.stay_event_id = state.discharged_stay_event_id or str(event_id)
            state.stay_since, state.stay_establishment = payload.admitted_at, payload.establishment
            state.stay_location_event_id = str(event_id)
            state.discharge_event_id = state.discharged_at = None
            state.discharged_home, state.letter_received = False, True
        case ev.MovementCorrected():
            _correct(state, payload)


def _correct(state: FollowUpState, correction: ev.MovementCorrected) -> None:
    """A hospital's correction of a movement: the deadlines computed from its dates move with
    them (R1 and R4 from the admission, R2, R3 and R7 from the discharge); an alert already
    raised for the old date stays raised, one whose condition no longer holds clears."""
    target = str(correction.movement_event_id)
    if correction.movement == "admission" and target == state.stay_event_id and correction.at:
        state.stay_since = correction.at
    if target == state.stay_location_event_id and correction.establishment:
        state.stay_establishment = correction.establishment
    if correction.movement == "discharge" and target == state.discharge_event_id:
        state.discharged_at = correction.at or state.discharged_at
        if correction.destination is not None:
            state.discharged_home = correction.destination == "home"


def _latest(known: date | None, new: date) -> date:
    return max(known, new) if known else new
