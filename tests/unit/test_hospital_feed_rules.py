"""The rupture rules after the cancellations a hospital's ADT feed sends: a cancelled admission
leaves no stay for R4 to watch; a cancelled discharge brings the stay back and clears R3."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from shared import events as ev
from shared.domain.commands import Delays, Policy
from shared.domain.followup import FollowUpState, evolve
from shared.domain.ruptures import deadlines
from shared.events.payloads import AdmissionCancelled, DischargeCancelled

ADMITTED = datetime(2026, 3, 1, 10, tzinfo=UTC)


def rules_after(*payloads: ev.Payload) -> set[str]:
    state = FollowUpState(pathway_id="p-1", territory="t", person_label="X")
    for payload in (ev.Admitted(decided_on=ADMITTED.date() - timedelta(days=30)), *payloads):
        evolve(state, payload, uuid4(), ADMITTED, "gc-1")
    return {d.rule for d in deadlines(state, Delays(), Policy())}


STAY = ev.Hospitalised(establishment="CH", ward="Gériatrie", admitted_at=ADMITTED,
                       kind="emergency")
HOME = ev.Discharged(discharged_at=ADMITTED + timedelta(days=3), destination="home",
                     discharge_letter_received=False)


def test_a_cancelled_admission_leaves_no_stay_to_watch() -> None:
    assert {"R1", "R4"} <= rules_after(STAY)
    cancelled = AdmissionCancelled(establishment="CH", admitted_at=ADMITTED,
                                   cancelled_at=ADMITTED + timedelta(hours=2))
    assert not {"R1", "R4"} & rules_after(STAY, cancelled)


def test_a_cancelled_discharge_brings_the_stay_back() -> None:
    assert {"R3", "R7"} <= rules_after(STAY, HOME)
    resumed = DischargeCancelled(establishment="CH", ward="Gériatrie", admitted_at=ADMITTED,
                                 cancelled_at=ADMITTED + timedelta(days=3, hours=1))
    after = rules_after(STAY, HOME, resumed)
    assert "R4" in after
    assert not {"R2", "R3", "R7"} & after


def fold(*payloads: ev.Payload) -> tuple[FollowUpState, list[UUID]]:
    """The state after the payloads, and the id each event got."""
    state = FollowUpState(pathway_id="p-1", territory="t", person_label="X")
    ids = []
    for payload in (ev.Admitted(decided_on=ADMITTED.date() - timedelta(days=30)), *payloads):
        ids.append(uuid4())
        evolve(state, payload, ids[-1], ADMITTED, "gc-1")
    return state, ids[1:]


def due(state: FollowUpState) -> dict[str, tuple[str, datetime]]:
    return {d.rule: (d.dedup_key, d.due_at) for d in deadlines(state, Delays(), Policy())
            if d.rule in ("R1", "R2", "R3", "R4", "R7")}


def test_a_corrected_admission_moves_r1_and_r4_under_the_same_keys() -> None:
    state, (stay,) = fold(STAY)
    before = due(state)
    earlier = ADMITTED - timedelta(hours=6)
    evolve(state, ev.MovementCorrected(movement_event_id=stay, movement="admission",
                                       at=earlier), uuid4(), ADMITTED, "hl7:x")
    after = due(state)
    assert state.stay_since == earlier
    assert after["R1"] == (before["R1"][0], earlier)
    assert after["R4"] == (before["R4"][0], earlier + timedelta(days=Delays().r4_stay_without_note))


def test_a_corrected_discharge_moves_its_deadlines_and_a_new_destination_clears_them() -> None:
    state, (_, discharge) = fold(STAY, HOME)
    later = HOME.discharged_at + timedelta(days=1)
    evolve(state, ev.MovementCorrected(movement_event_id=discharge, movement="discharge",
                                       at=later), uuid4(), ADMITTED, "hl7:x")
    after = due(state)
    assert after["R2"][1] == later
    assert after["R3"][1] == later + timedelta(days=Delays().r3_no_revision_after_discharge)
    assert after["R7"][1] == later + timedelta(days=Delays().r7_no_discharge_letter)
    evolve(state, ev.MovementCorrected(movement_event_id=discharge, movement="discharge",
                                       destination="ehpad"), uuid4(), ADMITTED, "hl7:x")
    assert not {"R3", "R7"} & set(due(state))


def test_a_correction_of_another_movement_changes_nothing() -> None:
    state, _ = fold(STAY)
    before = state.model_copy(deep=True)
    evolve(state, ev.MovementCorrected(movement_event_id=uuid4(), movement="admission",
                                       at=ADMITTED - timedelta(days=1), establishment="CH 2"),
           uuid4(), ADMITTED, "hl7:x")
    assert state == before


def test_the_unit_of_the_current_location_follows_its_correction() -> None:
    moved = ev.StayTransferred(establishment="CH", ward="Cardiologie",
                               transferred_at=ADMITTED + timedelta(hours=4))
    state, (stay, transfer) = fold(STAY, moved)
    evolve(state, ev.MovementCorrected(movement_event_id=stay, movement="admission",
                                       establishment="CH 2"), uuid4(), ADMITTED, "hl7:x")
    assert state.stay_establishment == "CH"  # the admission no longer says where they are
    evolve(state, ev.MovementCorrected(movement_event_id=transfer, movement="transfer",
                                       establishment="CH 2", ward="Médecine"),
           uuid4(), ADMITTED, "hl7:x")
    assert state.stay_establishment == "CH 2"
