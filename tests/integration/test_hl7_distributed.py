"""`parcours hl7 listen` as its own process on the real PostgreSQL: a hospital's messages
reach the journal with their dates, a repeat stores once, a correction of a movement finds the
event it corrects, a person not followed leaves only a count, and the process stops cleanly."""

import random
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.hl7.store import IntakeStore
from shared import fictitious as f
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from tests.e2e.hl7_helpers import message, send
from tests.integration.conftest import META
from tests.integration.notification_helpers import free_port, wait_until
from tests.integration.processes import start, stop

pytestmark = pytest.mark.integration
ADMITTED = datetime(2026, 11, 2, 3, 40, tzinfo=timezone(timedelta(hours=1)))


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_the_listener_process_on_postgresql(settings: Settings, journal: Journal,
                                            tmp_path: Path) -> None:
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 5, META)
    referral = f.referral(random.Random(3))
    pathway_id = journal.refer(referral, META)
    journal.admit(pathway_id, f.admission(), "gc-1", META)
    port = free_port()
    log = tmp_path / "hl7.log"
    process = start(["hl7", "listen"], settings, log, PARCOURS_HL7_PORT=str(port))
    try:
        wait_until(lambda: _listening(port) or process.poll() is not None, 60,
                   "the listener to accept connections")
        assert process.poll() is None, log.read_text()
        a01 = message("a01", INS=referral.person.ins, ADMITTED=ADMITTED, CLASS="E")
        assert send(port, a01).code == "AA"
        assert send(port, a01).code == "AA"
        discharged = ADMITTED + timedelta(days=4)
        assert send(port, message("a03", INS=referral.person.ins, ADMITTED=ADMITTED,
                                  DISCHARGED=discharged, CONTROL="MSG-2",
                                  MOVEMENT="MVT-2")).code == "AA"
        corrected = discharged + timedelta(hours=2)
        update = message("z99", INS=referral.person.ins, ADMITTED=ADMITTED,
                         DISCHARGED=corrected, MOVED=corrected, CONTROL="MSG-4",
                         MOVEMENT="MVT-2", ORIGINAL="A03", MODE="7", TO="EHPAD fictif")
        assert send(port, update).code == "AA"
        assert send(port, update).code == "AA"
        stranger = f.fictitious_ins(random.Random(77))
        assert send(port, message("a01", INS=stranger, ADMITTED=ADMITTED,
                                  CONTROL="MSG-3", MOVEMENT="MVT-3")).code == "AA"
    finally:
        assert stop(process) == 0, log.read_text()[-3000:]

    facts = [e for e in journal.events_of(pathway_id) if e.actor.role == "hospital"]
    assert [(e.type, e.occurred_at) for e in facts[:2]] == [("Hospitalised", ADMITTED),
                                                            ("Discharged", discharged)]
    assert [e.type for e in facts[2:]] == ["MovementCorrected"]
    assert facts[2].data == {"movement_event_id": str(facts[1].event_id),
                             "movement": "discharge", "movement_id": "MVT-2",
                             "at": corrected.isoformat(), "destination": "ehpad",
                             "establishment": None, "ward": None, "kind": None}
    last = journal.pathway(pathway_id).follow_up.last_discharge
    assert last is not None and (last.discharged_at, last.destination) == (corrected, "ehpad")
    views = PostgresDatabase(settings.database_url, max_size=1)
    try:
        assert IntakeStore(views).unmatched() == {
            ("SIH_FICTIF^CH_VILLEFICTIVE", "not_followed"): 1}
    finally:
        views.close()
