"""The ruptures projection wakes the scheduler as soon as a batch that makes an alert due at
once (R1: a hospitalisation) is committed, and only then: the alert does not wait for the
scheduler's next tick."""

from datetime import UTC, datetime
from functools import partial

from projections.ruptures.projection import RupturesProjection
from services.scheduler.scheduler import Scheduler
from shared import fictitious as f
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming.projecting import LogProjector
from tests.integration.conftest import META


def test_a_hospitalisation_wakes_the_scheduler(settings: Settings, journal: Journal) -> None:
    db = PostgresDatabase(settings.database_url)
    try:
        projection = RupturesProjection()
        projector = LogProjector(partial(read_log, journal), db, projection)
        today = datetime.now(UTC).date()
        pathway_id = journal.refer(f.referral(referred_on=today), META)
        journal.admit(pathway_id, f.admission(today), "gc-1", META)
        assert projector.catch_up() > 0
        assert not projection.due_now.is_set()  # only deadlines weeks away so far

        journal.hospitalise(pathway_id, f.stay(datetime.now(UTC)), META)
        assert projector.catch_up() == 1
        assert projection.due_now.is_set()

        scheduler = Scheduler(db, journal, projection)
        assert scheduler.fire_due() == 1
        raised = [e for e in journal.events_of(pathway_id) if e.type == "AlertRaised"]
        assert len(raised) == 1
    finally:
        db.close()
