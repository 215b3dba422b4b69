"""Events appended through the API reach Kafka in order per pathway, keyed by pathway id,
and the caseload projection, run as a consumer group member, reflects them."""

import threading
from collections import defaultdict

from fastapi.testclient import TestClient

from parcours.bootstrap import create_app
from projections.caseload.projection import CaseloadProjection
from services.relay.relay import Relay
from shared import fictitious as f
from shared.events import EventEnvelope
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from tests.conftest import bearer
from tests.e2e.conftest import referral_json
from tests.integration.kafka_helpers import read_topic, wait_until

HEADERS = bearer("coord-1", "coordinator")


def drain(relay: Relay) -> None:
    while relay.publish_next_batch():
        pass


def test_api_events_reach_the_topic_and_the_caseload_view(
    settings: Settings, journal: Journal
) -> None:
    expected: dict[str, list[str]] = {}
    with TestClient(create_app(settings), headers=HEADERS) as client:
        for manager in ("gc-0", "gc-1"):
            client.put(f"/territories/{f.TERRITORY}/case-managers/{manager}",
                       json={"name": "Gestionnaire"}).raise_for_status()
        for seed in range(3):
            body = referral_json(seed)
            pathway_id = client.post("/pathways", json=body).json()["pathway_id"]
            client.post(f"/pathways/{pathway_id}/admission", json={
                "decided_on": "2026-01-20", "case_manager_id": f"gc-{seed % 2}",
            }).raise_for_status()
            client.post(f"/pathways/{pathway_id}/hospitalisations",
                        json=f.stay().model_dump(mode="json")).raise_for_status()
            expected[pathway_id] = ["Referred", "Admitted", "CaseManagerAssigned", "Hospitalised"]

        db = PostgresDatabase(settings.database_url)
        drain(Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                    positions_topic=settings.relay_positions_topic))

        by_pathway: dict[str, list[EventEnvelope]] = defaultdict(list)
        partitions: dict[str, set[int]] = defaultdict(set)
        for record in read_topic(settings):
            envelope = EventEnvelope.from_json(record.value)
            assert record.key == str(envelope.pathway_id).encode()
            assert dict(record.headers)["event_id"] == str(envelope.event_id).encode()
            by_pathway[str(envelope.pathway_id)].append(envelope)
            partitions[str(envelope.pathway_id)].add(record.partition)
        assert {k: [e.type for e in v] for k, v in by_pathway.items()} == expected
        for envelopes in by_pathway.values():
            assert [e.stream_version for e in envelopes] == [1, 2, 3, 4]
            positions = [e.global_position or 0 for e in envelopes]
            assert 0 not in positions and positions == sorted(positions)
        assert all(len(p) == 1 for p in partitions.values())

        projector = kafka_io.KafkaProjector(settings, db, CaseloadProjection())
        stop = threading.Event()
        worker = threading.Thread(target=projector.run, args=(stop,))
        worker.start()
        try:
            wait_until(lambda: client.get("/caseload").json()["case_managers"] != []
                       and sum(m["active"] for m in client.get("/caseload").json()
                               ["case_managers"]) == 3, 60, "the caseload view")
        finally:
            stop.set()
            worker.join()
        loads = client.get("/caseload").json()["case_managers"]
        assert {(m["case_manager_id"], m["active"], m["in_hospital"]) for m in loads} == {
            ("gc-0", 2, 2), ("gc-1", 1, 1),
        }
        db.close()
