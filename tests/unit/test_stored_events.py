"""How events are stored: through the library's mapper, so that a configured cipher applies,
and brought up to date on read by the library's upcasting convention."""

import json
import random
import sqlite3
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import StoredEvent

from shared import events as ev
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.domain.events import EVENT_CLASSES
from shared.events import Actor
from shared.journal.application import Journal

META = Meta(actor=Actor(id="coord-1", role="coordinator"))


def test_a_configured_cipher_leaves_no_clear_text_in_the_store(tmp_path: Path) -> None:
    store = tmp_path / "journal.sqlite"
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(store),
           "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
           "CIPHER_KEY": AESCipher.create_key(16)}
    journal = Journal(env=env)
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 35, META)
    referral = f.referral(random.Random(1))
    pathway_id = journal.refer(referral, META)
    assert journal.pathway(pathway_id).person == referral.person  # reads back through it
    journal.close()
    with sqlite3.connect(store) as db:
        states = b"".join(row[0] for row in db.execute("SELECT state FROM stored_events"))
    assert states
    for clear in (referral.person.family_name, referral.person.ins, f.TERRITORY):
        assert clear.encode() not in states


class _PlanRevisedV3(EVENT_CLASSES["PlanRevised"]):  # type: ignore[misc,valid-type,name-defined]
    """A made-up version 3 of the event class whose upcaster from v2 renames a field, as a
    future schema change would."""

    class_version: ClassVar[int] = 3

    @classmethod
    def upcast_v2_v3(cls, state: dict[str, Any]) -> None:
        state["data"]["summary"] = state["data"].pop("synopsis")


def test_a_stored_v1_event_is_upcast_on_read_to_its_current_class() -> None:
    journal = Journal(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    plan = f.plan(1)
    state = {  # as version 1 stored it: occurred_at was the time of typing
        "timestamp": "2026-11-20T09:00:00+00:00", "event_id": str(uuid4()),
        "occurred_at": "2026-11-20T09:00:00+00:00",
        "actor": {"id": "gc-1", "role": "case_manager"}, "correlation_id": str(uuid4()),
        "causation_id": None, "data": plan.model_dump(mode="json")}
    stored = StoredEvent(originator_id=uuid4(), originator_version=4,
                         topic="shared.pathway.events:PlanRevised",
                         state=json.dumps(state).encode())
    event: Any = journal.mapper.to_domain_event(stored)
    assert event.data == plan
    assert event.occurred_at.isoformat() == "2026-02-01T00:00:00+01:00"  # the plan's own day

    renamed = {**state, "class_version": 2,
               "data": {**plan.model_dump(mode="json", exclude={"summary"}),
                        "synopsis": "PSI initial"}}
    stored_v2 = StoredEvent(originator_id=uuid4(), originator_version=4,
                            topic=f"{__name__}:_PlanRevisedV3",
                            state=json.dumps(renamed).encode())
    upcast: Any = journal.mapper.to_domain_event(stored_v2)
    assert isinstance(upcast.data, ev.PlanRevised)
    assert upcast.data.summary == "PSI initial"
