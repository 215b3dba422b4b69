import json
import random
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import jsonschema
import pytest
from pydantic import ValidationError

from shared import events as ev
from shared import fictitious
from shared.events import EventEnvelope, UnknownEventTypeError, payloads
from shared.events.schema import export


def envelope_for(payload: ev.Payload) -> EventEnvelope:
    return EventEnvelope(
        event_id=uuid4(), pathway_id=uuid4(), stream_version=3, global_position=42,
        type=payload.type_name(), schema_version=payload.schema_version,
        occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        recorded_at=datetime(2026, 3, 4, 9, tzinfo=UTC),
        actor=ev.Actor(id="gc-1", role="case_manager"), correlation_id=uuid4(),
        causation_id=None, data=payload.model_dump(mode="json"),
    )


VIGILANCE = uuid4()
REPEAT = uuid4()


def hospital_feed_payloads() -> list[ev.Payload]:
    """The facts only a hospital's ADT feed records (cancellations, corrections)."""
    at = datetime(2026, 3, 1, 10, tzinfo=UTC)
    return [
        payloads.AdmissionCancelled(establishment="CH fictif", admitted_at=at, cancelled_at=at),
        payloads.TransferCancelled(establishment="CH fictif", ward="Gériatrie", cancelled_at=at),
        payloads.DischargeCancelled(establishment="CH fictif", ward="Gériatrie", admitted_at=at,
                                    cancelled_at=at),
        payloads.MovementCorrected(movement_event_id=uuid4(), movement="admission",
                                   movement_id="MVT-1", at=at, ward="Cardiologie",
                                   kind="emergency"),
        payloads.IdentityQualified(qualified_by="SIH_FICTIF^CH_VILLEFICTIVE"),
        payloads.IdentityVigilanceRaised(
            vigilance_id=VIGILANCE, sender="SIH_FICTIF^CH_VILLEFICTIVE",
            establishment="CH de Villefictive", control_id="MSG-1", trigger="A03",
            differing_traits=["family_name", "birth_date"]),
        payloads.IdentityVigilanceResolved(vigilance_id=VIGILANCE, resolved_by="gc-1",
                                           comment="Vu avec la cellule d'identitovigilance"),
    ]


PAYLOADS = [
    fictitious.referral(random.Random(7)), fictitious.admission(), fictitious.assignment(),
    fictitious.evaluation(), fictitious.plan(), fictitious.stay(), fictitious.discharge(),
    fictitious.closure(), fictitious.member(), fictitious.note(), fictitious.dysfunction(),
    fictitious.alert(),
    ev.Waitlisted(rank=2, since=date(2026, 1, 20)),
    ev.PlanValidated(revision=1, validated_by="Dr Fictif", validated_on=date(2026, 2, 3)),
    ev.MemberLeft(member_id="gp-1", left_on=date(2026, 4, 1)),
    ev.StayTransferred(establishment="SSR fictif", ward="SSR",
                       transferred_at=datetime(2026, 3, 4, 9, tzinfo=UTC)),
    ev.AlertAcknowledged(alert_id=uuid4(), comment="Vu"),
    ev.DischargeLetterReceived(received_on=date(2026, 3, 9)),
    ev.AlertResolved(alert_id=uuid4()),
    ev.EpisodesShared(from_territory="dac-a", with_territory="dac-b",
                      consent_given_on=date(2026, 7, 12)),
    ev.IdentityCorrected(family_name="Fictif", given_names="Jeanne", birth_date=date(1941, 2, 3),
                         sex="F", reason="Nom d'usage saisi à la place du nom de naissance"),
    ev.AdmissionRefused(
        decided_on=date(2026, 1, 20), reason_code="other_service_better_suited",
        reason="Relève du SSIAD", orientation={"to": "SSIAD fictif", "kind": "service"},
    ),
    *hospital_feed_payloads(),
    ev.ReferralReceivedAgain(
        referral_id=REPEAT, referrer=fictitious.referral(random.Random(7)).referrer,
        referred_on=date(2026, 3, 2), territory="dac-a",
        identity={"family_name": "Fictif", "given_names": "Jeanne",
                  "birth_date": date(1941, 2, 3), "sex": "F"},
        reason="identity_differs", differing_traits=["birth_date"]),
    ev.RepeatReferralResolved(referral_id=REPEAT, outcome="declined", resolved_by="coord-1",
                              comment="Autre personne : INS mal saisie, vu avec le médecin"),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.type_name())
def test_every_event_type_round_trips_through_json(payload: ev.Payload) -> None:
    envelope = envelope_for(payload)
    decoded = EventEnvelope.from_json(envelope.to_json())
    assert decoded == envelope
    assert decoded.payload() == payload


def test_every_contract_type_is_covered_here() -> None:
    assert {p.type_name() for p in PAYLOADS} == set(ev.PAYLOAD_TYPES)


def test_a_referral_stored_before_referral_ids_still_loads() -> None:
    referral = fictitious.referral(random.Random(7)).model_copy(update={"referral_id": uuid4()})
    raw = json.loads(envelope_for(referral).to_json())
    del raw["data"]["referral_id"]
    old = EventEnvelope.from_json(json.dumps(raw)).payload()
    assert isinstance(old, ev.Referred) and old.referral_id is None
    assert old.person == referral.person


def test_an_unknown_type_is_an_error() -> None:
    raw = json.loads(envelope_for(fictitious.closure()).to_json())
    raw["type"] = "Teleported"
    with pytest.raises(UnknownEventTypeError):
        EventEnvelope.from_json(json.dumps(raw))


def test_instrument_scales_out_of_range_are_refused() -> None:
    with pytest.raises(ValidationError, match="adl_hierarchy"):
        fictitious.evaluation().model_validate(
            {**fictitious.evaluation().model_dump(), "scales": {"adl_hierarchy": 7}}
        )


def test_the_public_rule_refuses_under_60_without_neuro_evolutive_disease() -> None:
    referral = fictitious.referral(random.Random(3)).model_dump()
    referral["person"]["birth_date"] = date(1990, 1, 1)
    with pytest.raises(ValidationError, match="moins de 60 ans"):
        ev.Referred.model_validate(referral)
    referral["neuro_evolutive_disease"] = True
    assert ev.Referred.model_validate(referral).neuro_evolutive_disease


def test_schema_export_writes_one_valid_schema_per_type_and_version(tmp_path: Path) -> None:
    written = export(tmp_path)
    assert sorted(p.name for p in written) == sorted(
        f"{name}.v{cls.schema_version}.schema.json" for name, cls in ev.PAYLOAD_TYPES.items()
    )
    for payload in PAYLOADS:
        schema = json.loads((tmp_path / f"{payload.type_name()}.v1.schema.json").read_text())
        instance = json.loads(envelope_for(payload).to_json())
        jsonschema.validate(instance, schema)
        instance["data"] = {}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(instance, schema)


def test_person_indexes_written_before_the_split_still_load() -> None:
    from eventsourcing.utils import resolve_topic

    from shared.domain.person_index import PersonIndex, PersonIndexed

    assert resolve_topic("shared.pathway.domain:PersonIndex") is PersonIndex
    assert resolve_topic("shared.pathway.domain:PersonIndexed") is PersonIndexed


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.type_name())
def test_an_envelope_read_back_from_the_store_is_the_validated_one(payload: ev.Payload) -> None:
    # ``trusted`` skips a second validation of what the store read: it must build the very
    # envelope validation builds, and hand out the stored payload itself.
    validated = envelope_for(payload)
    fields = validated.model_dump(exclude={"data"})
    fields["actor"] = validated.actor
    trusted = EventEnvelope.trusted(payload, **fields)
    assert trusted == validated
    assert trusted.to_json() == validated.to_json()
    assert trusted.payload() is payload
    assert trusted.pathway_key == str(validated.pathway_id)
