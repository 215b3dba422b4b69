"""An ADT listener on 127.0.0.1 over the embedded journal, for the tests of who may send: the
journal is at hand to show what a refused message did not do."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from parcours.bootstrap import build_listener
from services.hl7.listener import Listener, running
from shared import fictitious as f
from shared.domain.commands import Meta
from shared.events import Actor
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import SqliteDatabase
from tests.e2e.hl7_helpers import message

ADMITTED = datetime(2026, 11, 2, 3, 40, tzinfo=timezone(timedelta(hours=1)))
FICTIF = "SIH_FICTIF^CH_VILLEFICTIVE"
AUTRE = "SIH_AUTRE^CH_AUTRE"
META = Meta(actor=Actor(id="gc-1", role="case_manager"))


@dataclass
class Served:
    port: int
    journal: Journal
    listener: Listener

    def followed(self, seed: int = 1) -> tuple[UUID, str]:
        """A pathway a hospital's admission would add a fact to, and the person's INS."""
        self.journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 5, META)
        referral = f.referral(random.Random(seed))
        pathway_id = self.journal.refer(referral, META)
        self.journal.admit(pathway_id, f.admission(), "gc-1", META)
        return pathway_id, referral.person.ins

    def hospital_facts(self, pathway_id: UUID) -> list[str]:
        return [e.type for e in self.journal.events_of(pathway_id)
                if e.actor.role == "hospital"]


def admission(ins: str, sender: str = FICTIF, control: str = "MSG-1") -> bytes:
    """An A01 of the person, as ``sender`` (MSH-3^MSH-4) says it is."""
    a01 = message("a01", INS=ins, ADMITTED=ADMITTED, CLASS="E", CONTROL=control)
    return a01.replace(b"|SIH_FICTIF|CH_VILLEFICTIVE|", b"|" + sender.replace("^", "|")
                       .encode() + b"|", 1)


def senders(**bindings: dict[str, Any]) -> dict[str, str | dict[str, str | list[str]]]:
    """Both test hospitals on the fictitious territory, each with its ``bindings``."""
    return {key: {"territory": f.TERRITORY, "establishment": name, **bindings.get(arg, {})}
            for arg, key, name in (("fictif", FICTIF, "CH de Villefictive"),
                                   ("autre", AUTRE, "CH Autre"))}


@contextmanager
def served(tmp_path: Path, **settings: Any) -> Iterator[Served]:
    config = Settings(mode="embedded", data_dir=tmp_path / "var", hl7_port=0, **settings)
    journal = Journal(env=config.journal_env())
    views = SqliteDatabase(config.views_sqlite_path)
    try:
        listener = build_listener(config, journal, views)
        with running(listener) as port:
            yield Served(port, journal, listener)
    finally:
        views.close()
        journal.close()
