"""The rupture rules after the cancellations a hospital's ADT feed sends: a cancelled admission
leaves no stay for R4 to watch; a cancelled discharge brings the stay back and clears R3."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from shared import events as ev
from shared.events.payloads import AdmissionCancelled, DischargeCancelled
from shared.pathway.commands import Delays, Policy
from shared.pathway.followup import FollowUpState, evolve
from shared.pathway.ruptures import deadlines

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
