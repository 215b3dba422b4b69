"""The Pathway's rules for the cancellations a hospital's ADT feed sends, on the aggregate
alone (no store)."""

from datetime import UTC, datetime, timedelta

from shared import fictitious as f
from shared.events.payloads import AdmissionCancelled, DischargeCancelled, TransferCancelled
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
    this_stay = f.alert("R1", "R1:this-stay")
    pathway.raise_alert(this_stay, META, {this_stay.dedup_key})
    pathway.cancel_admission(admission_cancelled(), META)
    assert pathway.open_stay is None
    states = {a.raised.dedup_key: a.state for a in pathway.alerts.values()}
    assert states == {"R1:an-earlier-stay": "open", "R1:this-stay": "resolved"}
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
