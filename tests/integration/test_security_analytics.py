"""Finding 8: the analytics topic cannot be joined back to people. A whole pathway, made
through the API and the rules engine, goes through the relay; the topic is then dumped and
searched for every fictitious name, INS, identifier, text and exact date that was used."""

import json
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from projections.ruptures.projection import RupturesProjection
from services.relay.relay import Relay
from services.scheduler.scheduler import Scheduler
from shared import fictitious as f
from shared.events.pseudonymise import Analytics
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from shared.streaming.projecting import LogProjector, prepare
from tests.conftest import bearer
from tests.e2e.conftest import referral_json
from tests.integration.kafka_helpers import read_topic

KEY = b"integration-test-key"
COORDINATOR = bearer("coord-1", "coordinator")
MANAGER = bearer("gc-1", "case_manager")
STAY = datetime(2026, 3, 1, 10, tzinfo=UTC)


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json")


def _texts(value: Any) -> set[str]:
    """Every string of a document that is an identifier or reads as text, not a code."""
    found: set[str] = set()
    if isinstance(value, dict):
        for v in value.values():
            found |= _texts(v)
    elif isinstance(value, list):
        for item in value:
            found |= _texts(item)
    elif isinstance(value, str) and not re.fullmatch(r"[a-z_]{1,40}|R\d|[FMX]", value):
        found.add(value)
    return found


def test_the_analytics_topic_holds_nothing_that_names_or_links_back(
    settings: Settings, journal: Journal
) -> None:
    analytics = settings.model_copy(update={"topic": settings.topic + ".analytics"})
    kafka_io.ensure_topic(analytics)
    with TestClient(create_app(settings), headers=COORDINATOR) as api:
        def send(path: str, body: Any, headers: dict[str, str] = COORDINATOR) -> Any:
            answer = api.post(path, json=body, headers=headers)
            assert answer.status_code < 300, answer.text
            return answer.json()

        api.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
                json={"name": "Gestionnaire Un"}).raise_for_status()
        referrals = [referral_json(seed) for seed in (11, 12)]
        pathways = [send("/pathways", r)["pathway_id"] for r in referrals]
        p = pathways[0]
        send(f"/pathways/{p}/admission", {"decided_on": "2026-01-20", "case_manager_id": "gc-1"})
        written = [
            ("care-circle", f.member("gp-1")), ("care-circle", f.member("nurse-1", "nurse")),
            ("evaluations", f.evaluation()), ("plan-revisions", f.plan(1)),
            ("hospitalisations", f.stay(STAY)), ("discharges", f.discharge()),
            ("notes", f.note()), ("dysfunctions", f.dysfunction()),
        ]
        bodies = [_dump(payload) for _, payload in written]
        for (path, _), body in zip(written, bodies, strict=True):
            send(f"/pathways/{p}/{path}", body, MANAGER)
        refusal = {"decided_on": "2026-01-21", "reason_code": "other_service_better_suited",
                   "reason": "Relève du SSIAD de Villefictive (fictif).",
                   "orientation": {"to": "SSIAD du Val fictif", "kind": "service",
                                   "details": "Appeler Mme Orientation au 01 00 00 00 00"}}
        send(f"/pathways/{pathways[1]}/refusal", refusal)

    # The rules engine raises R1 and R2 into the journal, as `parcours project ruptures` does.
    db = PostgresDatabase(settings.database_url)
    rules = RupturesProjection(settings.delays(), settings.policy())
    prepare(db, rules)
    LogProjector(partial(read_log, journal), db, rules).catch_up()
    assert Scheduler(db, journal, rules, lambda: STAY + timedelta(days=6, hours=1)).fire_due()

    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic,
                  analytics=(analytics.topic, Analytics(KEY, k=2)))
    while relay.publish_next_batch():
        pass
    db.close()

    plain = read_topic(settings)
    published = read_topic(analytics)
    assert len(published) == len(plain) > 12
    dump = b"\n".join(r.value for r in published).decode()
    types = {json.loads(r.value)["type"] for r in published}
    assert {"Referred", "AdmissionRefused", "Evaluated", "PlanRevised", "MemberJoined",
            "Hospitalised", "Discharged", "FollowUpNoted", "DysfunctionReported",
            "AlertRaised"} <= types

    envelopes = [json.loads(r.value) for r in plain]
    secrets = set()
    for envelope in envelopes:
        secrets |= {envelope["event_id"], envelope["pathway_id"], envelope["correlation_id"],
                    envelope["actor"]["id"]}
        secrets |= _texts(envelope["data"])  # names, INS, ids, dedup keys, every free text
    secrets |= _texts(referrals) | _texts(bodies) | _texts(refusal)
    secrets.discard(f.TERRITORY)  # the territory's code is kept on purpose: it names no one
    leaked = sorted(s for s in secrets if len(s) > 2 and s in dump)
    assert leaked == []
    assert not re.search(r"\d{4}-\d{2}-\d{2}", dump), "an exact date left"
    for record in published:
        document = json.loads(record.value)
        assert "global_position" not in document and document["format"] == "pseudonymised-v3"
        assert "event_id" not in dict(record.headers)
