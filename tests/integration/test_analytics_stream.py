"""The analytics stream on Kafka: every pathway event, pseudonymised, in order per pathway."""

import json
import random
from collections import defaultdict

from services.relay.relay import Relay
from shared import fictitious as f
from shared.events import EventEnvelope
from shared.journal.application import Journal
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
    relay = Relay(journal, db, lambda: kafka_io.producer(settings), settings.topic,
                  analytics=(analytics.topic, KEY))
    while relay.publish_next_batch():
        pass
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
    versions = defaultdict(list)
    for record in pseudonymised:
        document = json.loads(record.value)
        assert document["pathway"] not in real_ids
        assert record.key == document["pathway"].encode()
        assert dict(record.headers)["format"] == b"pseudonymised-v2"
        versions[document["pathway"]].append(document["stream_version"])
    assert sorted(versions.values()) == [[1, 2, 3, 4]] * 3
