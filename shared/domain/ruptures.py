"""The rupture rules R1–R7 as pure functions of a pathway's follow-up state (the fold of
``shared.domain.followup``).

Every rule is a deadline: a due moment, computed from the facts' own dates, and a
de-duplication key that names the occurrence. The deadlines of a pathway are recomputed after
each event; a clearable deadline whose condition no longer holds disappears before it fires.
R1 and R2 are not clearable: they tell people that something happened. An alert whose
deadline is no longer wanted after an event has cleared: the journal resolves it."""

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from shared.domain.commands import Delays, Policy
from shared.domain.dates import start_of_day
from shared.domain.followup import FollowUpState
from shared.events import values
from shared.events.payloads import RuleCode, Severity


class Deadline(NamedTuple):
    """Immutable, and a tuple rather than a frozen dataclass: the views compute every
    pathway's deadlines after each event, and a frozen dataclass's __init__ (one
    object.__setattr__ per field) took twice as long."""

    dedup_key: str
    rule: RuleCode
    severity: Severity
    due_at: datetime
    title: str
    message: str
    recipients: tuple[values.Recipient, ...]
    clearable: bool = True
    lapses_at: datetime | None = None


def deadlines(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    if state.status != "active":
        return []
    rules = (_r1_r2, _r3, _r4, _r5, _r6_gp, _r6_plan, _r7)
    return [deadline for rule in rules for deadline in rule(state, delays, policy)]


CLEARABLE_RULES = frozenset({"R3", "R4", "R5", "R6", "R7"})
INFORMATION_RULES = frozenset({"R1", "R2"})
"""R1 and R2 tell that something happened: acknowledging them ends them."""


def wanted_keys(state: FollowUpState, delays: Delays, policy: Policy) -> set[str]:
    """The occurrences the rules still call for; a raised alert of a clearable rule whose key
    is not among them has cleared."""
    return {deadline.dedup_key for deadline in deadlines(state, delays, policy)}


@lru_cache(maxsize=256)
def coordination(territory: str) -> values.Recipient:
    # Frozen, so one per territory serves every deadline of a replay.
    return values.Recipient(professional_id=f"coordination:{territory}",
                            name=f"Coordination {territory}", role="coordinator")


def _manager(state: FollowUpState) -> tuple[values.Recipient, ...]:
    return (state.case_manager,) if state.case_manager else ()


def _circle(state: FollowUpState, day: date) -> tuple[values.Recipient, ...]:
    members = tuple(values.Recipient(professional_id=m.member_id, name=m.name, role=m.role)
                    for m in state.active_members(day))
    return _manager(state) + members or (coordination(state.territory),)


def _with_coordination(state: FollowUpState) -> tuple[values.Recipient, ...]:
    return (*_manager(state), coordination(state.territory))


def _midnight(day: date) -> datetime:
    return start_of_day(day)


def _r1_r2(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    found = []
    if state.stay_since and state.stay_event_id:
        found.append(Deadline(
            f"R1:{state.stay_event_id}", "R1", "warning", state.stay_since,
            f"Hospitalisation de {state.person_label}",
            "La personne est hospitalisée : suspendez les interventions à domicile et "
            "informez le gestionnaire de cas de tout changement.",
            _circle(state, state.stay_since.date()), clearable=False,
            lapses_at=state.stay_since + timedelta(days=delays.immediate_lapse)))
    if state.discharged_at and state.discharge_event_id:
        found.append(Deadline(
            f"R2:{state.discharge_event_id}", "R2", "info", state.discharged_at,
            f"Sortie d'hospitalisation de {state.person_label}",
            "La personne est sortie de l'hôpital : reprenez les interventions prévues ; une "
            "évaluation de retour est à prévoir.",
            _circle(state, state.discharged_at.date()), clearable=False,
            lapses_at=state.discharged_at + timedelta(days=delays.immediate_lapse)))
    return found


def _r3(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    if not (state.discharged_home and state.discharged_at and state.discharge_event_id):
        return []
    left = state.discharged_at
    revised = state.plan_revised_at is not None and state.plan_revised_at >= left
    evaluated = state.last_evaluated_on is not None and state.last_evaluated_on >= left.date()
    if revised or evaluated:
        return []
    days = delays.r3_no_revision_after_discharge
    return [Deadline(
        f"R3:{state.discharge_event_id}", "R3", "critical", left + timedelta(days=days),
        f"Rupture de parcours : {state.person_label}",
        f"Retour à domicile depuis {days} jours sans révision du PSI ni évaluation de retour.",
        _with_coordination(state))]


def _r4(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    if not (state.stay_since and state.stay_event_id):
        return []
    noted = (state.last_manager_note_on is not None
             and state.last_manager_note_on >= state.stay_since.date())
    if noted:
        return []
    days = delays.r4_stay_without_note
    return [Deadline(
        f"R4:{state.stay_event_id}", "R4", "warning", state.stay_since + timedelta(days=days),
        f"Hospitalisation longue sans suivi : {state.person_label}",
        f"Hospitalisation depuis plus de {days} jours sans note de suivi du gestionnaire de cas.",
        _with_coordination(state))]


def _r5(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    due = state.next_evaluation_due(policy)
    if due is None:
        return []
    return [Deadline(
        f"R5:{state.pathway_id}:{due.isoformat()}", "R5", "warning",
        _midnight(due + timedelta(days=1)),
        f"Évaluation en retard : {state.person_label}",
        f"L'évaluation prévue le {due.strftime('%d/%m/%Y')} n'a pas été faite.",
        _manager(state) or (coordination(state.territory),))]


def _r6_gp(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    if state.admitted_on is None:
        return []
    gps = [m for m in state.members if m.role == "attending_gp"]
    if any(m.left_on is None for m in gps):
        return []
    since = max([state.admitted_on, *(m.left_on for m in gps if m.left_on)])
    days = delays.r6_without_attending_gp
    return [Deadline(
        f"R6:gp:{state.pathway_id}:{since.isoformat()}", "R6", "warning",
        _midnight(since + timedelta(days=days)),
        f"Pas de médecin traitant : {state.person_label}",
        f"Aucun médecin traitant dans le cercle de soins depuis {days} jours.",
        _manager(state) or (coordination(state.territory),))]


def _r6_plan(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    if not state.plan_revision or state.plan_validated or state.plan_revised_at is None:
        return []
    days = delays.r6_plan_not_validated
    return [Deadline(
        f"R6:plan:{state.pathway_id}:{state.plan_revision}", "R6", "warning",
        state.plan_revised_at + timedelta(days=days),
        f"PSI non validé : {state.person_label}",
        f"La révision n° {state.plan_revision} du PSI attend la validation du médecin traitant "
        f"depuis {days} jours.",
        _manager(state) or (coordination(state.territory),))]


def _r7(state: FollowUpState, delays: Delays, policy: Policy) -> list[Deadline]:
    if not (state.discharged_home and state.discharged_at and state.discharge_event_id):
        return []
    if state.letter_received:
        return []
    days = delays.r7_no_discharge_letter
    return [Deadline(
        f"R7:{state.discharge_event_id}", "R7", "warning",
        state.discharged_at + timedelta(days=days),
        f"Lettre de liaison manquante : {state.person_label}",
        f"Retour à domicile depuis {days} jours sans lettre de liaison de l'hôpital.",
        _manager(state) or (coordination(state.territory),))]
