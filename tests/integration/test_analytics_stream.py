"""The analytics stream on Kafka: every pathway event, pseudonymised, in order per pathway;
a referral's traits only once k persons share them, the same after the relay restarts."""

import json
import random
from collections import defaultdict

from services.relay.relay import Relay
from shared import fictitious as f
from shared.events import EventEnvelope
from shared.events.pseudonymise import Analytics, to_json
from shared.journal.application import Journal
from shared.journal.store import read_log
from shared.runtime.settings import Settings
from shared.storage.sqldb import PostgresDatabase
from shared.streaming import kafka_io
from tests.integration.conftest import META
from tests.integration.kafka_helpers import read_topic

KEY = b"integration-test-key"


def test_the_analytics_topic_carries_no_named_person(settings: Settings,
                                                     journal: Journal) -> None:
    analytics = settings.model_copy(update={"topic": settings.topic + ".analytics"})
    kafka_io.ensure_topic(analytics)
    journal.register_manager(f.TERRITORY, "gc-1", "Gestionnaire Un", 5, META)
    referrals = [f.referral(random.Random(seed)) for seed in range(3)]
    for referral in referrals:
        pathway_id = journal.refer(referral, META)
        journal.admit(pathway_id, f.admission(), "gc-1", META)
        journal.hospitalise(pathway_id, f.stay(), META)
    db = PostgresDatabase(settings.database_url)
    # Five log entries a batch; the first relay stops after one batch and another one, with
    # a reader process of its own that knows nothing yet, publishes the rest.
    first = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  positions_topic=settings.relay_positions_topic,
                  batch_size=5, analytics=(analytics.topic, Analytics(KEY, k=3)))
    assert first.publish_next_batch()
    first.close()
    second = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                   positions_topic=settings.relay_positions_topic,
                   batch_size=5, analytics=(analytics.topic, Analytics(KEY, k=3)),
                   read_ahead=True)
    try:
        while second.publish_next_batch():
            pass
    finally:
        second.close()
        db.close()

    plain = read_topic(settings)
    pseudonymised = read_topic(analytics)
    assert len(pseudonymised) == len(plain) == 12
    raw = b"".join(r.value for r in pseudonymised)
    for referral in referrals:
        for secret in (referral.person.ins, referral.person.family_name,
                       referral.referrer.name, referral.person.birth_date.isoformat()):
            assert secret.encode() not in raw
    real_ids = {str(EventEnvelope.from_json(r.value).pathway_id) for r in plain}
    types = defaultdict(list)
    for record in pseudonymised:
        document = json.loads(record.value)
        assert document["pathway"] not in real_ids
        assert record.key == document["pathway"].encode()
        assert dict(record.headers)["format"] == b"pseudonymised-v3"
        assert document["period"] == "2026-Q1"  # one period: one pseudonym per pathway
        types[document["pathway"]].append(document["type"])
    assert list(types.values()) == \
        [["Referred", "Admitted", "CaseManagerAssigned", "Hospitalised"]] * 3
    # Only the third referral has k = 3 persons behind it in the territory and the quarter.
    referred = [json.loads(r.value)["data"] for r in pseudonymised
                 if json.loads(r.value)["type"] == "Referred"]
    assert sorted("territory" in data for data in referred) == [False, False, True]
    # What two relays published is what one reading of the whole log gives.
    alone = Analytics(KEY, k=3)
    expected = [alone.record(e) for _, e in read_log(journal, 1, 1000) if e is not None]
    assert sorted(r.value for r in pseudonymised) == \
        sorted(to_json(r) for r in expected if r is not None)
