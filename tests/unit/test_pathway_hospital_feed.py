"""The Pathway's rules for the cancellations a hospital's ADT feed sends, on the aggregate
alone (no store)."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from shared import fictitious as f
from shared.domain.commands import Delays, Policy
from shared.domain.ruptures import wanted_keys
from shared.events import StayTransferred
from shared.events.payloads import (
    AdmissionCancelled,
    DischargeCancelled,
    MovementCorrected,
    TransferCancelled,
)
from tests.unit.test_pathway_rules import META, admitted, broken, replay

ADMITTED = datetime(2026, 3, 1, 10, tzinfo=UTC)  # the admission of f.stay() and f.alert()
CANCELLED = ADMITTED + timedelta(hours=2)


def admission_cancelled() -> AdmissionCancelled:
    return AdmissionCancelled(establishment="CH de Villefictive", admitted_at=ADMITTED,
                              cancelled_at=CANCELLED)


def discharge_cancelled() -> DischargeCancelled:
    return DischargeCancelled(establishment="CH de Villefictive", ward="Gériatrie",
                              admitted_at=ADMITTED, cancelled_at=CANCELLED + timedelta(days=7))


def test_a_cancelled_admission_ends_the_stay_and_resolves_its_r1_only() -> None:
    pathway = admitted()
    earlier = f.alert("R1", "R1:an-earlier-stay").model_copy(
        update={"due_at": ADMITTED - timedelta(days=40)})
    pathway.raise_alert(earlier, META, {earlier.dedup_key})
    pathway.hospitalise(f.stay(ADMITTED), META)
    this_stay = f.alert("R1", f"R1:{pathway.state.stay_event_id}")
    pathway.raise_alert(this_stay, META, {this_stay.dedup_key})
    pathway.cancel_admission(admission_cancelled(), META)
    assert pathway.open_stay is None
    states = {a.raised.dedup_key: a.state for a in pathway.alerts.values()}
    assert states == {"R1:an-earlier-stay": "open", this_stay.dedup_key: "resolved"}
    assert replay(pathway).open_stay is None


def test_nothing_to_cancel_is_a_rule_of_the_practice() -> None:
    pathway = admitted()
    broken("stay.not_open", lambda: pathway.cancel_admission(admission_cancelled(), META))
    broken("stay.no_discharge_to_cancel",
           lambda: pathway.cancel_discharge(discharge_cancelled(), META))
    pathway.hospitalise(f.stay(ADMITTED), META)
    broken("stay.no_discharge_to_cancel",
           lambda: pathway.cancel_discharge(discharge_cancelled(), META))


def test_a_cancelled_discharge_reopens_the_stay_and_a_cancelled_transfer_restores_the_unit(
        ) -> None:
    pathway = admitted()
    pathway.hospitalise(f.stay(ADMITTED), META)
    pathway.discharge(f.discharge(), META)
    pathway.cancel_discharge(discharge_cancelled(), META)
    assert pathway.follow_up.last_discharge is None
    pathway.cancel_transfer(TransferCancelled(establishment="CH de Villefictive",
                                              ward="Médecine", cancelled_at=CANCELLED), META)
    for state in (pathway, replay(pathway)):
        assert state.open_stay is not None
        assert (state.open_stay.ward, state.open_stay.admitted_at) == ("Médecine", ADMITTED)


def test_a_corrected_admission_moves_the_stay_and_its_cancellation_still_resolves_r1() -> None:
    pathway = admitted()
    pathway.hospitalise(f.stay(ADMITTED), META)
    admission = UUID(pathway.state.stay_event_id)
    r1 = f.alert("R1", f"R1:{admission}")
    pathway.raise_alert(r1, META, {r1.dedup_key})
    assert pathway.movement_told_by(admission) == "admission"
    earlier = ADMITTED - timedelta(hours=3)
    pathway.correct_movement(MovementCorrected(
        movement_event_id=admission, movement="admission", movement_id="MVT-1", at=earlier,
        kind="planned", ward="Cardiologie"), META)
    assert pathway.open_stay is not None
    assert (pathway.open_stay.admitted_at, pathway.open_stay.kind, pathway.open_stay.ward) == \
        (earlier, "planned", "Cardiologie")
    assert pathway.state.stay_since == earlier
    pathway.cancel_admission(admission_cancelled(), META)  # R1's due date was the old one
    assert pathway.alerts[r1.alert_id].state == "resolved"
    assert replay(pathway).open_stay is None


def test_only_the_latest_stays_admission_current_unit_and_discharge_are_corrected() -> None:
    pathway = admitted()
    pathway.hospitalise(f.stay(ADMITTED), META)
    admission = UUID(pathway.state.stay_event_id)
    broken("stay.nothing_to_correct", lambda: pathway.correct_movement(MovementCorrected(
        movement_event_id=uuid4(), movement="admission", at=ADMITTED), META))
    broken("stay.nothing_to_correct", lambda: pathway.correct_movement(MovementCorrected(
        movement_event_id=admission, movement="discharge", at=ADMITTED), META))
    moved = ADMITTED + timedelta(hours=4)
    pathway.transfer_stay(StayTransferred(establishment="CH de Villefictive", ward="SSR",
                                          transferred_at=moved), META)
    broken("date.out_of_order", lambda: pathway.correct_movement(MovementCorrected(
        movement_event_id=admission, movement="admission", at=moved + timedelta(hours=1)),
        META))
    pathway.discharge(f.discharge(), META)
    discharge = UUID(pathway.state.discharge_event_id or "")
    assert pathway.movement_told_by(discharge) == "discharge"
    assert pathway.movement_told_by(admission) == "admission"  # the stay just ended
    later = f.discharge().discharged_at + timedelta(hours=5)
    pathway.correct_movement(MovementCorrected(
        movement_event_id=discharge, movement="discharge", at=later, destination="ehpad"), META)
    broken("date.out_of_order", lambda: pathway.correct_movement(MovementCorrected(
        movement_event_id=admission, movement="admission", at=later + timedelta(days=1)), META))
    rebuilt = replay(pathway)
    for state in (pathway, rebuilt):
        last = state.follow_up.last_discharge
        assert last is not None and (last.discharged_at, last.destination) == (later, "ehpad")
        assert state.state.discharged_at == later and not state.state.discharged_home
    rebuilt.hospitalise(f.stay(later + timedelta(days=2)), META)
    assert rebuilt.movement_told_by(discharge) is None  # an earlier stay: nothing to correct


def test_a_discharge_home_corrected_to_a_nursing_home_clears_r3_and_r7() -> None:
    pathway = admitted()
    pathway.hospitalise(f.stay(ADMITTED), META)
    pathway.discharge(f.discharge(), META)
    discharge = pathway.state.discharge_event_id
    r2 = f.alert("R2", f"R2:{discharge}")
    r3 = f.alert("R3", f"R3:{discharge}")
    for alert in (r2, r3):
        pathway.raise_alert(alert, META, wanted_keys(pathway.state, Delays(), Policy()))
    pathway.correct_movement(MovementCorrected(
        movement_event_id=UUID(discharge or ""), movement="discharge", destination="ehpad"),
        META)
    pathway.resolve_cleared_alerts(wanted_keys(pathway.state, Delays(), Policy()))
    states = {a.raised.dedup_key: a.state for a in pathway.alerts.values()}
    assert states == {r2.dedup_key: "open", r3.dedup_key: "resolved"}  # R2 told what happened
