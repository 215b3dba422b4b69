"""The ADT intake over MLLP with real sockets on 127.0.0.1, inside the embedded platform
served by a real uvicorn: facts reach the journal with the messages' own dates, R1 reaches a
live stream, repeats and persons not followed store nothing, malformed input is answered and
the listener keeps serving."""

import contextlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from parcours.bootstrap import create_app
from services.hl7.store import IntakeStore
from shared import fictitious as f
from shared.api.server import ApiServer
from shared.runtime.settings import Settings
from tests.conftest import bearer
from tests.e2e.conftest import HEADERS, MANAGER, referral_json
from tests.e2e.hl7_helpers import Connection, message, send
from tests.integration.notification_helpers import SseClient, free_port, wait_until

SENDER = "hl7:SIH_FICTIF^CH_VILLEFICTIVE"
ADMITTED = datetime.fromisoformat("2026-11-02T03:40:00+01:00")


@dataclass
class Running:
    base: str
    hl7_port: int
    http: httpx.Client
    app: Any

    def person(self, seed: int) -> tuple[str, str]:
        """A followed person: referred, admitted, with gc-1 as case manager."""
        body = referral_json(seed)
        pathway = self.http.post("/pathways", json=body).json()["pathway_id"]
        answer = self.http.post(f"/pathways/{pathway}/admission",
                                json={"decided_on": "2026-01-20", "case_manager_id": "gc-1"})
        assert answer.status_code == 200, answer.text
        return pathway, body["person"]["ins"]

    def facts(self, pathway: str) -> list[dict[str, Any]]:
        journal = self.http.get(f"/pathways/{pathway}/journal").json()
        return [e for e in journal if e["actor"]["role"] == "hospital"]

    def stored(self) -> int:
        """Events in the whole store, less the alerts the scheduler fires on its own (the
        fictitious dates make some rules fall due while a test runs)."""
        recorder = self.app.state.platform.journal.recorder
        return sum(1 for n in recorder.select_notifications(start=1, limit=100_000)
                   if ":Alert" not in n.topic)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    settings = Settings(
        mode="embedded", data_dir=tmp_path / "var", hl7_port=0, scheduler_interval_s=0.2,
        hl7_senders={"SIH_FICTIF^CH_VILLEFICTIVE": {"territory": f.TERRITORY,
                                                    "establishment": "CH de Villefictive"},
                     "SIH_AUTRE^CH_AUTRE": "dac-autre-territoire"})
    app = create_app(settings)
    server = ApiServer(app, "127.0.0.1", free_port()).start()
    base = f"http://127.0.0.1:{server.server.config.port}"
    with httpx.Client(base_url=base, headers=HEADERS, timeout=10) as http:
        http.put(f"/territories/{f.TERRITORY}/case-managers/gc-1",
                 json={"name": "Gestionnaire gc-1"}).raise_for_status()
        yield Running(base, app.state.hl7_port, http, app)
    server.stop()


def test_the_journal_gets_the_facts_with_the_messages_dates(running: Running) -> None:
    pathway, ins = running.person(1)
    moved = ADMITTED + timedelta(hours=5)
    discharged = ADMITTED + timedelta(days=6)
    second = ADMITTED + timedelta(days=20)
    cancelled = second + timedelta(hours=2)
    connection = Connection(running.hl7_port)
    sent: list[tuple[str, dict[str, Any]]] = [
        ("a01", {"ADMITTED": ADMITTED, "CLASS": "E"}),
        ("a02", {"ADMITTED": ADMITTED, "MOVED": moved, "UNIT": "Cardiologie"}),
        ("a12", {"ADMITTED": ADMITTED, "MOVED": moved, "CANCELLED": moved + timedelta(hours=1),
                 "UNIT": "Gériatrie"}),
        ("a03", {"ADMITTED": ADMITTED, "DISCHARGED": discharged, "MODE": "7",
                 "TO": "EHPAD les Tilleuls fictifs"}),
        ("a13", {"ADMITTED": ADMITTED, "DISCHARGED": discharged,
                 "CANCELLED": discharged + timedelta(hours=3)}),
        ("a03", {"ADMITTED": ADMITTED, "DISCHARGED": discharged + timedelta(days=1)}),
        ("a08", {"ADMITTED": ADMITTED}),
        ("a01", {"ADMITTED": second, "CLASS": "I"}),
        ("a11", {"ADMITTED": second, "CANCELLED": cancelled}),
    ]
    for n, (name, values) in enumerate(sent):
        ack = connection.send(message(name, INS=ins, CONTROL=f"MSG-{n}", MOVEMENT=f"MVT-{n}",
                                      **values))
        assert (ack.code, ack.control_id) == ("AA", f"MSG-{n}"), ack.raw
    connection.close()

    facts = running.facts(pathway)
    assert [(e["type"], e["occurred_at"]) for e in facts] == [
        ("Hospitalised", ADMITTED.isoformat()),
        ("StayTransferred", moved.isoformat()),
        ("TransferCancelled", (moved + timedelta(hours=1)).isoformat()),
        ("Discharged", discharged.isoformat()),
        ("DischargeCancelled", (discharged + timedelta(hours=3)).isoformat()),
        ("Discharged", (discharged + timedelta(days=1)).isoformat()),
        ("Hospitalised", second.isoformat()),
        ("AdmissionCancelled", cancelled.isoformat()),
    ]
    assert {e["actor"]["id"] for e in facts} == {SENDER}
    first = facts[0]["data"]
    assert first == {"establishment": "CH de Villefictive", "ward": "Gériatrie",
                     "admitted_at": ADMITTED.isoformat(), "kind": "emergency", "reason": ""}
    assert facts[1]["data"]["ward"] == "Cardiologie"
    assert facts[2]["data"]["ward"] == "Gériatrie"
    assert facts[3]["data"]["destination"] == "ehpad"
    assert facts[5]["data"]["destination"] == "home"
    assert facts[6]["data"]["kind"] == "planned"
    state = running.http.get(f"/pathways/{pathway}").json()
    assert state["open_stay"] is None
    caseload = running.http.get("/caseload/gc-1").json()["persons"]
    (person,) = [p for p in caseload if p["pathway_id"] == pathway]
    assert person["location"] == "home"  # the cancelled admission is no stay


def test_r1_reaches_a_live_stream_and_a_cancelled_admission_resolves_it(
        running: Running) -> None:
    pathway, ins = running.person(2)
    stream = SseClient(f"{running.base}/notifications/stream/gc-1", headers=MANAGER)
    admitted = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    ack = send(running.hl7_port, message("a01", INS=ins, ADMITTED=admitted, CLASS="E"))
    assert ack.code == "AA"
    wait_until(lambda: any('"R1"' in e["data"] and pathway in e["data"]
                           for e in stream.events), 20, "R1 on the stream")

    send(running.hl7_port, message("a11", INS=ins, ADMITTED=admitted, CONTROL="MSG-2",
                                   MOVEMENT="MVT-2", CANCELLED=admitted + timedelta(minutes=5)))
    journal = running.http.get(f"/pathways/{pathway}/journal").json()
    resolved = [e for e in journal if e["type"] == "AlertResolved"]
    assert len(resolved) == 1
    assert resolved[0]["actor"]["id"] == SENDER
    assert "annulée" in resolved[0]["data"]["resolution"]


def test_the_same_message_twice_stores_once_and_a_typed_stay_is_the_same_stay(
        running: Running) -> None:
    pathway, ins = running.person(3)
    a01 = message("a01", INS=ins, ADMITTED=ADMITTED)
    assert send(running.hl7_port, a01).code == "AA"
    before = running.stored()
    again = send(running.hl7_port, a01)
    assert again.code == "AA" and again.error is None
    assert running.stored() == before
    assert len(running.facts(pathway)) == 1

    typed, typed_ins = running.person(4)
    stay = {"establishment": "CH de Villefictive", "ward": "Gériatrie", "kind": "emergency",
            "admitted_at": ADMITTED.isoformat()}
    running.http.post(f"/pathways/{typed}/hospitalisations", json=stay).raise_for_status()
    before = running.stored()
    later = ADMITTED + timedelta(minutes=20)  # the hospital's own clock for the same stay
    assert send(running.hl7_port, message("a01", INS=typed_ins, ADMITTED=later,
                                          CONTROL="MSG-9", MOVEMENT="MVT-9")).code == "AA"
    assert running.stored() == before


def test_persons_not_followed_or_unqualified_store_nothing_but_a_count(
        running: Running) -> None:
    _, ins = running.person(5)
    before = running.stored()
    stranger = f.fictitious_ins(random.Random(99))
    for n, (who, status) in enumerate([(stranger, "VALI"), (ins, "PROV"), (ins, "")]):
        ack = send(running.hl7_port, message("a01", INS=who, STATUS=status, ADMITTED=ADMITTED,
                                             CONTROL=f"MSG-{n}", MOVEMENT=f"MVT-{n}"))
        assert (ack.code, ack.error) == ("AA", None)
    other = message("a01", INS=ins, ADMITTED=ADMITTED, CONTROL="MSG-7").replace(
        b"SIH_FICTIF|CH_VILLEFICTIVE", b"SIH_AUTRE|CH_AUTRE")
    assert send(running.hl7_port, other).code == "AA"  # another territory: not told apart
    assert running.stored() == before
    counts = IntakeStore(running.app.state.platform.views).unmatched()
    assert counts == {("SIH_FICTIF^CH_VILLEFICTIVE", "not_followed"): 1,
                      ("SIH_FICTIF^CH_VILLEFICTIVE", "identity_not_qualified"): 2,
                      ("SIH_AUTRE^CH_AUTRE", "not_followed"): 1}

    unknown = message("a01", INS=ins, ADMITTED=ADMITTED).replace(b"SIH_FICTIF", b"SIH_INCONNU")
    ack = send(running.hl7_port, unknown)
    assert (ack.code, ack.control_id, ack.error) == ("AR", "MSG-1", "204")
    assert running.stored() == before


def _alive(port: int) -> None:
    """Another sender is still served."""
    ack = send(port, message("a08", INS="", CONTROL="ALIVE", ADMITTED=ADMITTED))
    assert (ack.code, ack.control_id) == ("AA", "ALIVE")


def test_every_malformed_input_is_answered_and_the_listener_survives(
        running: Running) -> None:
    port = running.hl7_port
    good = message("a08", INS="", ADMITTED=ADMITTED)
    # Stays open during every case below: one bad sender never blocks the others.
    bystander = Connection(port)

    no_msh = good.split(b"\r", 1)[1]
    ack = send(port, no_msh)
    assert (ack.code, ack.error) == ("AR", "100")
    _alive(port)

    wrong_delimiters = good.replace(b"|", b"#")
    assert (send(port, wrong_delimiters).code, send(port, wrong_delimiters).error) == \
        ("AR", "102")
    _alive(port)

    latin1_in_utf8 = message("a08", INS="", ADMITTED=ADMITTED, CHARSET="8859/1").replace(
        b"8859/1", b"UNICODE UTF-8")
    ack = send(port, latin1_in_utf8)
    assert (ack.code, ack.control_id, ack.error) == ("AR", "MSG-1", "102")
    _alive(port)

    other_type = send(port, message("oru_r01", INS=""))
    assert (other_type.code, other_type.error) == ("AE", "200")
    _alive(port)

    garbage = Connection(port)
    garbage.send_raw(b"\x00\xffnot hl7\x1c\x0d")
    assert garbage.ack().code == "AR"
    assert garbage.closed_by_peer()  # not speaking MLLP: nothing after it is trusted
    garbage.close()
    _alive(port)

    truncated = Connection(port)
    truncated.send_raw(b"\x0b" + good[:40])
    truncated.socket.shutdown(1)  # the sender stops mid-frame
    assert truncated.closed_by_peer()
    truncated.close()
    _alive(port)

    megabyte = Connection(port)
    with contextlib.suppress(ConnectionError):  # closed by the listener while sending
        megabyte.send_raw(random.Random(1).randbytes(1024 * 1024))
    with contextlib.suppress(ConnectionError):  # the AR may be lost with the reset
        assert megabyte.ack().code == "AR"
    assert megabyte.closed_by_peer()
    megabyte.close()
    _alive(port)

    assert bystander.send(good).code == "AA"
    bystander.close()


def test_utf8_and_iso_8859_1_both_read(running: Running) -> None:
    pathway, ins = running.person(6)
    latin = message("a01", INS=ins, ADMITTED=ADMITTED, CHARSET="8859/1",
                    UNIT="Médecine gériatrique")
    ack = send(running.hl7_port, latin)
    assert ack.code == "AA" and b"8859/1" in ack.raw
    utf8 = message("a02", INS=ins, ADMITTED=ADMITTED, MOVED=ADMITTED + timedelta(hours=1),
                   UNIT="Soins de suite gériatriques", CONTROL="MSG-2", MOVEMENT="MVT-2")
    assert send(running.hl7_port, utf8).code == "AA"
    wards = [e["data"]["ward"] for e in running.facts(pathway)]
    assert wards == ["Médecine gériatrique", "Soins de suite gériatriques"]


def test_a_rule_of_the_practice_is_an_application_error(running: Running) -> None:
    pathway, ins = running.person(7)
    ack = send(running.hl7_port, message("a03", INS=ins, ADMITTED=ADMITTED,
                                         DISCHARGED=ADMITTED + timedelta(days=2)))
    assert (ack.code, ack.error) == ("AE", "207")
    assert "stay.not_open" in ack.segments["ERR"][8]
    assert running.facts(pathway) == []
    nothing_to_cancel = send(running.hl7_port, message(
        "a11", INS=ins, ADMITTED=ADMITTED, CANCELLED=ADMITTED, CONTROL="MSG-2",
        MOVEMENT="MVT-2"))
    assert (nothing_to_cancel.code, nothing_to_cancel.error) == ("AA", None)
    assert running.facts(pathway) == []


def _deadline(running: Running, key: str) -> datetime | None:
    with running.app.state.platform.views.transaction() as tx:
        row = tx.one("SELECT due_at FROM rupture_deadlines WHERE dedup_key = :key",
                     {"key": key})
    return datetime.fromisoformat(row[0]) if row else None


def _encounters(running: Running, pathway: str) -> list[dict[str, Any]]:
    bundle = running.http.get(f"/fhir/Encounter?patient=Patient/{pathway}").json()
    return [entry["resource"] for entry in bundle.get("entry", [])]


def test_an_update_of_the_admission_time_moves_the_stay_and_its_deadlines(
        running: Running) -> None:
    pathway, ins = running.person(8)
    stream = SseClient(f"{running.base}/notifications/stream/gc-1", headers=MANAGER)
    admitted = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    earlier = admitted - timedelta(hours=5)
    assert send(running.hl7_port, message("a01", INS=ins, ADMITTED=admitted, CLASS="E",
                                          CONTROL="MSG-A01", MOVEMENT="MVT-800")).code == "AA"
    (stay,) = running.facts(pathway)
    r4 = f"R4:{stay['event_id']}"
    wait_until(lambda: _deadline(running, r4) == admitted + timedelta(days=10),
               20, "R4 planned from the admission")
    wait_until(lambda: any('"R1"' in e["data"] and pathway in e["data"]
                           for e in stream.events), 20, "R1 on the stream")

    update = message("z99", INS=ins, ADMITTED=earlier, MOVED=earlier, CONTROL="MSG-Z99",
                     MOVEMENT="MVT-800", ORIGINAL="A01", CLASS="E")
    ack = send(running.hl7_port, update)
    assert (ack.code, ack.error) == ("AA", None), ack.raw
    corrected = running.facts(pathway)[-1]
    assert corrected["type"] == "MovementCorrected"
    assert corrected["data"]["movement_event_id"] == stay["event_id"]
    assert corrected["data"]["movement"] == "admission"
    assert datetime.fromisoformat(corrected["data"]["at"]) == earlier
    assert corrected["actor"]["id"] == SENDER
    state = running.http.get(f"/pathways/{pathway}").json()
    assert datetime.fromisoformat(state["open_stay"]["admitted_at"]) == earlier
    # R4 counts from the corrected admission, under the same key; R1, raised for the old
    # time, stays raised.
    wait_until(lambda: _deadline(running, r4) == earlier + timedelta(days=10),
               20, "R4 planned again from the corrected admission")
    alerts = running.http.get("/alerts", params={"pathway_id": pathway}).json()
    assert [a["rule"] for a in alerts if a["rule"] == "R1"] == ["R1"]
    (encounter,) = _encounters(running, pathway)
    assert datetime.fromisoformat(encounter["period"]["start"]) == earlier

    before = running.stored()
    again = send(running.hl7_port, update)
    assert (again.code, again.error) == ("AA", None)
    assert running.stored() == before

    unknown = send(running.hl7_port, message(
        "z99", INS=ins, ADMITTED=earlier, MOVED=earlier, CONTROL="MSG-Z99-2",
        MOVEMENT="MVT-NEVER-SENT"))
    assert (unknown.code, unknown.error) == ("AA", None)
    assert "inconnu" in unknown.segments["MSA"][3]
    assert running.stored() == before
    counts = IntakeStore(running.app.state.platform.views).unmatched()
    assert counts[("SIH_FICTIF^CH_VILLEFICTIVE", "movement_unknown")] == 1


def test_an_a08_changes_the_unit_and_never_the_identity(running: Running) -> None:
    pathway, ins = running.person(9)
    person = running.http.get(f"/pathways/{pathway}").json()["person"]
    moved = ADMITTED + timedelta(hours=3)
    sent: list[tuple[str, dict[str, Any]]] = [
        ("a01", {"ADMITTED": ADMITTED, "UNIT": "Gériatrie"}),
        ("a08", {"ADMITTED": ADMITTED, "UNIT": "Cardiologie"}),
        ("a02", {"ADMITTED": ADMITTED, "MOVED": moved, "UNIT": "Médecine"}),
        ("a08", {"ADMITTED": ADMITTED, "UNIT": "Neurologie"}),
    ]
    for n, (name, values) in enumerate(sent):
        ack = send(running.hl7_port, message(name, INS=ins, CONTROL=f"MSG-9{n}",
                                             MOVEMENT=f"MVT-9{n}", **values))
        assert (ack.code, ack.error) == ("AA", None), ack.raw
    stay, first, transfer, second = running.facts(pathway)
    assert (first["type"], first["data"]["movement"], first["data"]["ward"]) == \
        ("MovementCorrected", "admission", "Cardiologie")
    assert first["data"]["movement_event_id"] == stay["event_id"]
    assert "movement_id" not in first["data"] or first["data"]["movement_id"] is None
    assert (second["data"]["movement"], second["data"]["ward"]) == ("transfer", "Neurologie")
    assert second["data"]["movement_event_id"] == transfer["event_id"]
    state = running.http.get(f"/pathways/{pathway}").json()
    assert state["open_stay"]["ward"] == "Neurologie"
    assert state["person"] == person  # the A08's PID traits are not applied
    (encounter,) = _encounters(running, pathway)
    assert encounter["location"][0]["location"]["display"] == "Neurologie"

    before = running.stored()
    repeat = message("a08", INS=ins, CONTROL="MSG-93", MOVEMENT="MVT-93", ADMITTED=ADMITTED,
                     UNIT="Neurologie")
    assert send(running.hl7_port, repeat).code == "AA"
    assert running.stored() == before


def _identity_status(running: Running, pathway: str) -> str:
    patient = running.http.get(f"/fhir/Patient/{pathway}").json()
    (reliability,) = patient["extension"]
    return str(reliability["extension"][0]["valueCoding"]["code"])


def test_a_qualified_identity_with_the_same_traits_makes_the_patient_vali(
        running: Running) -> None:
    for seed, agrees in ((10, True), (11, False)):
        body = referral_json(seed)
        pathway, ins = running.person(seed)
        person = body["person"]
        assert _identity_status(running, pathway) == "PROV"
        traits = {"FAMILY": person["family_name"].upper(), "GIVEN": person["given_names"],
                  "BIRTH": person["birth_date"].replace("-", "") if agrees else "19300101",
                  "SEX": person["sex"]}
        for n in range(2):  # a second message qualifies nothing more
            ack = send(running.hl7_port, message("a08", INS=ins, CONTROL=f"MSG-Q{n}",
                                                 ADMITTED=ADMITTED, **traits))
            assert (ack.code, ack.error) == ("AA", None)
        qualified = [e for e in running.facts(pathway) if e["type"] == "IdentityQualified"]
        assert [e["data"] for e in qualified] == (
            [{"qualified_by": "SIH_FICTIF^CH_VILLEFICTIVE"}] if agrees else [])
        assert _identity_status(running, pathway) == ("VALI" if agrees else "PROV")
        assert running.http.get(f"/pathways/{pathway}").json()["person"]["family_name"] == \
            person["family_name"]


def _traits_of(person: dict[str, Any]) -> dict[str, str]:
    return {"FAMILY": person["family_name"].upper(), "GIVEN": person["given_names"],
            "BIRTH": person["birth_date"].replace("-", ""), "SEX": person["sex"]}


def _signed_in_page(running: Running, user: str) -> Any:
    """A browser on the same app, signed in as a demo professional (no lifespan: the running
    server's platform is the one it reads)."""
    from fastapi.testclient import TestClient

    browser = TestClient(running.app, base_url="http://127.0.0.1", follow_redirects=False)
    form = browser.get("/connexion")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    assert browser.post("/connexion", data={"user": user, "csrf": token.group(1)}
                        ).status_code == 303
    return browser


def test_another_persons_traits_are_an_identity_vigilance_incident_not_a_discharge(
        running: Running) -> None:
    """Finding: an A03 with the followed INS and another name, birth date and sex was applied
    with AA. It is answered AE with an ERR the identity cell reads, nothing is applied, and
    the case manager has one incident to resolve, in the API and on the file page."""
    running.http.put(f"/territories/{f.TERRITORY}/case-managers/gc-anne",
                     json={"name": "Anne Fictif"}).raise_for_status()
    body = referral_json(21)
    person = body["person"]
    pathway = running.http.post("/pathways", json=body).json()["pathway_id"]
    running.http.post(f"/pathways/{pathway}/admission", json={
        "decided_on": "2026-01-20", "case_manager_id": "gc-anne"}).raise_for_status()
    ins = person["ins"]
    agreeing = _traits_of(person)
    # The person's own traits, accents and case aside: the admission is theirs.
    agreeing["GIVEN"] = agreeing["GIVEN"].upper()
    ack = send(running.hl7_port, message("a01", INS=ins, CONTROL="MSG-V1", MOVEMENT="MVT-V1",
                                         ADMITTED=ADMITTED, **agreeing))
    assert (ack.code, ack.error) == ("AA", None), ack.raw

    other = {"FAMILY": "AUTREPERSONNE", "GIVEN": "Gaspard", "BIRTH": "19510707",
             "SEX": "M" if person["sex"] == "F" else "F"}
    a03 = message("a03", INS=ins, CONTROL="MSG-V2", MOVEMENT="MVT-V2", ADMITTED=ADMITTED,
                  DISCHARGED=ADMITTED + timedelta(days=3), **other)
    before = running.stored()
    for _ in range(2):  # a resend: the same answer, no second incident
        ack = send(running.hl7_port, a03)
        assert (ack.code, ack.control_id, ack.error) == ("AE", "MSG-V2", "204"), ack.raw
        err = ack.segments["ERR"]
        assert err[5] == "hl7.identity_mismatch^^L"
        assert set(err[2].split("~")) == {"PID^1^5", "PID^1^7", "PID^1^8"}
        assert "Vigilance identité" in err[8] and "date de naissance" in err[8]
        assert "nom de naissance" in err[8] and "le sexe" in err[8]
        text = ack.raw.decode("utf-8")
        for known in (person["family_name"], person["family_name"].upper(),
                      person["birth_date"], agreeing["BIRTH"], person["given_names"]):
            assert known not in text  # the hospital learns nothing of the file's identity
        assert running.stored() == before + 1

    state = running.http.get(f"/pathways/{pathway}").json()
    assert state["open_stay"] is not None  # the stay stays open
    assert "Discharged" not in [e["type"] for e in running.facts(pathway)]
    (raised,) = [e for e in running.facts(pathway) if e["type"] == "IdentityVigilanceRaised"]
    assert raised["actor"]["id"] == SENDER
    assert "AUTREPERSONNE" not in str(raised) and "19510707" not in str(raised)

    incidents = running.http.get(f"/pathways/{pathway}/identity-vigilance",
                                 headers=bearer("gc-anne", "case_manager")).json()
    (incident,) = incidents
    assert incident["resolved"] is False
    assert {k: incident["vigilance"][k] for k in ("sender", "establishment", "control_id",
                                                   "trigger")} == {
        "sender": "SIH_FICTIF^CH_VILLEFICTIVE", "establishment": "CH de Villefictive",
        "control_id": "MSG-V2", "trigger": "A03"}
    assert set(incident["vigilance"]["differing_traits"]) == {
        "family_name", "given_names", "birth_date", "sex"}

    browser = _signed_in_page(running, "gc-anne")
    page = browser.get(f"/dossiers/{pathway}")
    assert page.status_code == 200
    assert "Vigilance identité</strong> : un message de CH de Villefictive ne correspond " \
           "pas à l'identité du dossier (nom de naissance, prénoms, date de naissance, " \
           "sexe). À vérifier avec la cellule d'identitovigilance." in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    done = browser.post(f"/dossiers/{pathway}/vigilance", data={
        "csrf": csrf.group(1), "vigilance_id": incident["vigilance"]["vigilance_id"],
        "comment": "Erreur d'INS corrigée par la cellule d'identitovigilance du CH"})
    assert done.status_code == 303, done.text
    assert "Vigilance identité</strong>" not in browser.get(f"/dossiers/{pathway}").text
    (resolved,) = running.http.get(f"/pathways/{pathway}/identity-vigilance").json()
    assert (resolved["resolved"], resolved["resolved_by"]) == (True, "gc-anne")
    (event,) = [e for e in running.http.get(f"/pathways/{pathway}/journal").json()
                if e["type"] == "IdentityVigilanceResolved"]
    assert event["actor"]["id"] == "gc-anne"
    # Without a CSRF token the form does nothing.
    assert browser.post(f"/dossiers/{pathway}/vigilance", data={
        "vigilance_id": incident["vigilance"]["vigilance_id"]}).status_code in (400, 403)

    # The same hospital's message with the file's traits is applied as before.
    ack = send(running.hl7_port, message(
        "a03", INS=ins, CONTROL="MSG-V3", MOVEMENT="MVT-V3", ADMITTED=ADMITTED,
        DISCHARGED=ADMITTED + timedelta(days=3), **_traits_of(person)))
    assert (ack.code, ack.error) == ("AA", None), ack.raw
    assert running.http.get(f"/pathways/{pathway}").json()["open_stay"] is None


def test_an_unknown_movement_update_with_other_traits_is_an_incident_too(
        running: Running) -> None:
    pathway, ins = running.person(22)
    ack = send(running.hl7_port, message("z99", INS=ins, CONTROL="MSG-V4", MOVEMENT="MVT-NEVER",
                                         ADMITTED=ADMITTED, BIRTH="19300101"))
    assert (ack.code, ack.error) == ("AE", "204"), ack.raw
    assert ack.segments["ERR"][2] == "PID^1^7"
    (incident,) = running.http.get(f"/pathways/{pathway}/identity-vigilance").json()
    assert incident["vigilance"]["differing_traits"] == ["birth_date"]
