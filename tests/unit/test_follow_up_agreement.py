"""The caseload view and the rupture rules read one follow-up fold: over random stories, the
caseload's flags and the rules' deadlines agree (no I/O: the popo store and in-memory
SQLite)."""

import random
from contextlib import suppress
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.caseload.projection import COLUMNS, TABLE, CaseloadProjection
from projections.ruptures.projection import RupturesProjection
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.domain.dates import DEFAULT_TIME_ZONE, start_of_day
from shared.domain.errors import PathwayError
from shared.events import Actor
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.storage.sqldb import SqliteDatabase
from shared.streaming.projecting import LogProjector

META = Meta(actor=Actor(id="gc-1", role="case_manager"))
ADMITTED = date(2026, 1, 20)

Step = tuple[str, int]
steps: st.SearchStrategy[list[Step]] = st.lists(st.tuples(
    st.sampled_from(["evaluate", "stay", "discharge_home", "discharge_ehpad", "plan",
                     "validate", "gp", "note"]),
    st.integers(min_value=1, max_value=200)), max_size=12)


def day(offset: int) -> date:
    return ADMITTED + timedelta(days=offset)


def at(offset: int) -> datetime:
    return datetime.combine(day(offset), datetime.min.time().replace(hour=10),
                            tzinfo=DEFAULT_TIME_ZONE)


def run(journal: Journal, pathway: Any, name: str, offset: int) -> None:
    commands = {
        "evaluate": lambda: journal.evaluate(
            pathway, f.evaluation().model_copy(update={"evaluated_on": day(offset)}), META),
        "stay": lambda: journal.hospitalise(pathway, f.stay(at(offset)), META),
        "discharge_home": lambda: journal.discharge(pathway, f.discharge(at(offset)), META),
        "discharge_ehpad": lambda: journal.discharge(pathway, f.discharge(at(offset)).model_copy(
            update={"destination": "ehpad"}), META),
        "plan": lambda: journal.revise_plan(pathway, f.plan(
            journal.pathway(pathway).plan_revision + 1).model_copy(
                update={"revised_on": day(offset)}), META),
        "validate": lambda: journal.validate_plan(
            pathway, journal.pathway(pathway).plan_revision, day(offset), None,
            Meta(actor=Actor(id="gp-1", role="referrer"))),
        "gp": lambda: journal.join_care_circle(pathway, f.member("gp-1").model_copy(
            update={"joined_on": day(offset)}), META),
        "note": lambda: journal.note(pathway, f.note().model_copy(
            update={"contact_on": day(offset)}), META),
    }
    with suppress(PathwayError):  # a step the practice refuses at that point of the story
        commands[name]()


@settings(max_examples=60, deadline=None)
@given(steps)
def test_caseload_flags_and_rule_deadlines_agree(story: list[Step]) -> None:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    pathway = journal.refer(f.referral(random.Random(1)), META)
    journal.admit(pathway, f.admission(ADMITTED), "gc-1", META)
    for name, offset in sorted(story, key=lambda s: s[1]):
        run(journal, pathway, name, offset)

    db = SqliteDatabase(Path(":memory:"))
    caseload, ruptures = CaseloadProjection(), RupturesProjection()
    for projection in (caseload, ruptures):
        LogProjector(partial(read_log, journal), db, projection).catch_up()
    with db.transaction() as tx:
        row = dict(zip(COLUMNS, tx.one(f"SELECT {', '.join(COLUMNS)} FROM {TABLE}") or (),
                       strict=True))
        deadlines = {key: datetime.fromisoformat(due_at) for key, due_at in tx.execute(
            "SELECT dedup_key, due_at FROM rupture_deadlines WHERE outcome = 'pending'")}
    rules = {key.split(":")[0] for key in deadlines}

    aggregate = journal.pathway(pathway)
    due = aggregate.next_evaluation_due(journal.policy)
    assert row["next_evaluation_due"] == (due.isoformat() if due else None)
    assert due is not None
    assert deadlines[f"R5:{pathway}:{due.isoformat()}"] == start_of_day(due + timedelta(days=1))
    in_hospital = row["in_hospital_since"] is not None
    assert in_hospital == (aggregate.open_stay is not None)
    assert ("R4" in rules) == (in_hospital and not _noted_during_stay(aggregate))
    unvalidated = row["plan_revision"] > 0 and not row["plan_validated"]
    plan_key = f"R6:plan:{pathway}:{row['plan_revision']}"
    assert (plan_key in deadlines) == unvalidated
    assert row["discharged_home_on"] == (aggregate.state.discharged_home_on.isoformat()
                                         if aggregate.state.discharged_home_on else None)


def _noted_during_stay(aggregate: Any) -> bool:
    state = aggregate.state
    return bool(state.last_manager_note_on and state.stay_since
                and state.last_manager_note_on >= state.stay_since.date())

