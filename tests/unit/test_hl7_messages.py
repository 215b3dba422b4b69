"""The ADT message reading and mapping, without sockets: PAM.fr fields, dates, the INS, the
commands a message asks, and the ACK's shape."""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from services.hl7.ack import acknowledgement
from services.hl7.mapping import Sender, command_for, destination
from services.hl7.messages import MessageRejectedError, parse, timestamp
from shared import events as ev
from shared import fictitious as f
from shared.events.payloads import AdmissionCancelled
from tests.e2e.hl7_helpers import Ack, message
from tests.unit.test_pathway_rules import META, admitted, replay

INS = "240039812345623"
SENDER = Sender("SIH_FICTIF^CH_VILLEFICTIVE", "dac-val-fictif", "CH de Villefictive")
ADMITTED = datetime(2026, 11, 2, 3, 40, tzinfo=timezone(timedelta(hours=1)))


def test_hl7_dates_with_and_without_an_offset() -> None:
    assert timestamp("20261102034000+0100") == ADMITTED
    assert timestamp("202611020340") == ADMITTED  # French local time (winter)
    assert timestamp("20260702").utcoffset() == timedelta(hours=2)  # summer time
    with pytest.raises(ValueError):
        timestamp("2026-11-02")


@pytest.mark.parametrize("oid", ["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9",
                                 "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"])
def test_the_ins_is_read_from_each_ins_authority(oid: str) -> None:
    raw = message("a01", INS=INS, ADMITTED=ADMITTED, FAMILY="TÉMOIN", GIVEN="Rosé",
                  BIRTH="19400314", SEX="F").replace(b"1.2.250.1.213.1.4.8",
                                                              oid.encode())
    read = parse(raw)
    assert (read.ins, read.identity_qualified) == (INS, True)


def test_another_authority_or_status_gives_no_usable_identity() -> None:
    other = parse(message("a01", INS=INS, ADMITTED=ADMITTED).replace(
        b"1.2.250.1.213.1.4.8", b"1.2.250.1.213.1.4.99"))
    assert other.ins is None
    provisional = parse(message("a01", INS=INS, ADMITTED=ADMITTED, STATUS="PROV"))
    assert (provisional.ins, provisional.identity_qualified) == (INS, False)


def test_an_admission_is_a_stay_with_the_messages_dates_and_kind() -> None:
    emergency = command_for(parse(message("a01", INS=INS, ADMITTED=ADMITTED, CLASS="E")),
                            SENDER)
    assert emergency.payload == ev.Hospitalised(
        establishment="CH de Villefictive", ward="Gériatrie", admitted_at=ADMITTED,
        kind="emergency")
    assert emergency.occurred_at == ADMITTED
    planned = command_for(parse(message("a01", INS=INS, ADMITTED=ADMITTED)), SENDER)
    assert isinstance(planned.payload, ev.Hospitalised) and planned.payload.kind == "planned"
    outpatient = command_for(parse(message("a04", INS=INS, ADMITTED=ADMITTED, CLASS="O")),
                             SENDER)
    assert outpatient.payload is None


def test_a_cancelled_admission_dates_from_the_cancellation() -> None:
    cancelled_at = ADMITTED + timedelta(hours=3)
    command = command_for(parse(message("a11", INS=INS, ADMITTED=ADMITTED,
                                        CANCELLED=cancelled_at)), SENDER)
    assert command.payload == AdmissionCancelled(
        establishment="CH de Villefictive", admitted_at=ADMITTED, cancelled_at=cancelled_at)
    assert command.occurred_at == cancelled_at


@pytest.mark.parametrize(("mode", "to", "expected"), [
    ("8", "", "home"), ("9", "", "death"), ("7", "EHPAD fictif", "ehpad"),
    ("6", "SMR gériatrique fictif", "rehabilitation"), ("7", "CHU fictif", "other_hospital"),
    ("", "", "home")])
def test_discharge_destination(mode: str, to: str, expected: str) -> None:
    read = parse(message("a03", INS=INS, ADMITTED=ADMITTED, DISCHARGED=ADMITTED, MODE=mode,
                         TO=to))
    assert destination(read) == expected


def test_a_message_without_its_movement_date_is_an_application_error() -> None:
    with pytest.raises(MessageRejectedError) as rejected:
        command_for(parse(message("a03", INS=INS)), SENDER)
    assert (rejected.value.ack, rejected.value.hl7_code) == ("AE", 101)


def test_the_ack_answers_in_the_messages_charset_with_an_err_segment() -> None:
    header = parse(message("a01", INS=INS, ADMITTED=ADMITTED, CHARSET="8859/1")).header
    raw = acknowledgement("AE", header, "Règle : séjour|inconnu", datetime(2026, 11, 2,
                                                                              tzinfo=UTC), 207)
    ack = Ack(raw)
    assert ack.segments["MSH"][4:6] == ["SIH_FICTIF", "CH_VILLEFICTIVE"]
    assert ack.segments["MSH"][8] == "ACK^A01^ACK"
    assert ack.segments["MSH"][17] == "8859/1"
    assert (ack.code, ack.control_id, ack.error) == ("AE", "MSG-1", "207")
    assert ack.segments["MSA"][3] == "Règle : séjour\\F\\inconnu"
    assert "é".encode("iso-8859-1") in raw


def test_an_update_of_a_movement_is_a_correction_of_what_its_zbe_1_names() -> None:
    earlier = ADMITTED - timedelta(hours=2)
    z99 = command_for(parse(message("z99", INS=INS, ADMITTED=earlier, MOVED=earlier,
                                    MOVEMENT="MVT-7", ORIGINAL="A04")), SENDER)
    assert z99.payload is None and z99.correction is not None
    assert (z99.correction.movement_id, z99.correction.admitted_at, z99.correction.kind) == \
        ("MVT-7", earlier, "emergency")
    # ZBE-4 UPDATE on the movement's own trigger reads the same way.
    a01 = message("a01", INS=INS, ADMITTED=earlier).replace(b"||INSERT|", b"||UPDATE|")
    update = command_for(parse(a01), SENDER)
    assert update.correction is not None and update.correction.movement_id == "MVT-1"
    a04 = message("a04", INS=INS, ADMITTED=earlier).replace(b"||INSERT|", b"||UPDATE|")
    registration = command_for(parse(a04), SENDER).correction  # no ZBE-6: its own trigger
    assert registration is not None and registration.kind == "emergency"
    no_id = message("z99", INS=INS, ADMITTED=earlier, MOVED=earlier, MOVEMENT="")
    with pytest.raises(MessageRejectedError) as rejected:
        command_for(parse(no_id), SENDER)
    assert (rejected.value.ack, rejected.value.hl7_code) == ("AE", 101)


def test_an_a08_corrects_the_visit_in_progress_and_never_the_identity() -> None:
    pathway = admitted()
    pathway.hospitalise(f.stay(ADMITTED), META)
    a08 = command_for(parse(message("a08", INS=INS, ADMITTED=ADMITTED, UNIT="Cardiologie")),
                      SENDER)
    assert a08.correction is not None and a08.correction.movement_id is None
    facts = a08.correction.facts(pathway, None)
    assert [(c.movement, c.ward, c.at, c.kind) for c in facts] == [
        ("admission", "Cardiologie", None, None)]
    same = command_for(parse(message("a08", INS=INS, ADMITTED=ADMITTED)), SENDER)
    assert same.correction is not None and same.correction.facts(pathway, None) == []
    person = pathway.person
    applied = a08.apply(pathway, META, timedelta(hours=12))
    assert applied.recorded and pathway.open_stay and pathway.open_stay.ward == "Cardiologie"
    assert pathway.person == person  # PID's traits never overwrite the referral's identity


def test_the_identity_traits_are_those_of_the_birth_name() -> None:
    raw = message("a01", INS=INS, ADMITTED=ADMITTED, FAMILY="TÉMOIN", GIVEN="Rosé",
                  BIRTH="19400314", SEX="F").replace(
        "TÉMOIN^Rosé^Rosé^^^^L".encode(), "USAGE^Rose^^^^^D~TÉMOIN^Rose^Rose Marie^^^^L".encode())
    traits = parse(raw).traits
    assert (traits.family_name, traits.given_names, traits.birth_date, traits.sex) == (
        "TÉMOIN", "Rose Marie", date(1940, 3, 14), "F")


def _as_hospital(person: Any, **changes: str) -> bytes:
    values = {"FAMILY": person.family_name.upper(), "GIVEN": person.given_names,
              "BIRTH": person.birth_date.strftime("%Y%m%d"), "SEX": person.sex, **changes}
    return message("a01", INS=person.ins, ADMITTED=ADMITTED, **values)


def test_a_qualified_identity_that_agrees_qualifies_once_until_the_identity_is_corrected(
        ) -> None:
    pathway = admitted()
    assert pathway.person is not None
    person = pathway.person
    provisional = command_for(parse(_as_hospital(person, STATUS="PROV")), SENDER)
    assert provisional.qualified_identity is None
    other_birth = command_for(parse(_as_hospital(person, BIRTH="19300101")), SENDER)
    assert not other_birth.apply(pathway, META, timedelta(hours=12)).identity_qualified
    assert pathway.identity_qualified_by is None

    agreeing = command_for(parse(_as_hospital(person)), SENDER)
    assert agreeing.apply(pathway, META, timedelta(hours=12)).identity_qualified
    assert pathway.identity_qualified_by == SENDER.key
    assert pathway.person == person  # nothing of PID is copied
    assert not agreeing.apply(pathway, META, timedelta(hours=12)).identity_qualified

    pathway.correct_identity(ev.IdentityCorrected(
        family_name=person.family_name, given_names=f"{person.given_names} Marie",
        birth_date=person.birth_date, sex=person.sex, reason="Second prénom omis"), META)
    assert pathway.identity_qualified_by is None
    assert replay(pathway).identity_qualified_by is None
