"""Without TLS, a sender speaks only from the addresses PARCOURS_HL7_SENDERS names for it, or
from this host when it names none: a message from another peer is answered AR and nothing
applies; a peer no sender may speak from is closed before a byte is read. Every connection is
from 127.0.0.1: "another machine" is a sender whose peers leave 127.0.0.1 out."""

import contextlib
import socket
from pathlib import Path

from tests.e2e.hl7_helpers import END, START, Connection, send
from tests.e2e.hl7_running import admission, senders, served

ELSEWHERE = {"peers": ["192.0.2.10", "198.51.100.0/24"]}  # documentation ranges, never dialled


def test_a_message_from_a_peer_the_sender_does_not_name_is_answered_ar(
        tmp_path: Path) -> None:
    with served(tmp_path, hl7_senders=senders(fictif=ELSEWHERE)) as listening:
        pathway_id, ins = listening.followed()
        ack = send(listening.port, admission(ins))
        assert (ack.code, ack.error) == ("AR", "204")
        assert ack.segments["ERR"][5] == "hl7.sender_peer_not_allowed^^L"
        assert ack.segments["ERR"][8] == (
            "L'adresse 127.0.0.1 n'est pas autorisée pour l'émetteur "
            "SIH_FICTIF\\S\\CH_VILLEFICTIVE : message refusé, rien n'est enregistré.")
        assert listening.hospital_facts(pathway_id) == []


def test_a_peer_no_sender_may_speak_from_is_closed_unanswered(tmp_path: Path) -> None:
    with served(tmp_path, hl7_senders=senders(fictif=ELSEWHERE, autre=ELSEWHERE)) as listening:
        pathway_id, ins = listening.followed()
        with socket.create_connection(("127.0.0.1", listening.port), timeout=10) as peer:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                peer.sendall(START + admission(ins) + END)
            with contextlib.suppress(ConnectionResetError):
                assert peer.recv(65536) == b""
        assert listening.hospital_facts(pathway_id) == []


def test_a_named_peer_and_this_host_by_default_are_served(tmp_path: Path) -> None:
    here = {"peers": ["192.0.2.10", "127.0.0.1"]}
    with served(tmp_path, hl7_senders=senders(fictif=here)) as listening:
        first, ins = listening.followed(1)
        second, other_ins = listening.followed(2)
        assert send(listening.port, admission(ins)).code == "AA"
        connection = Connection(listening.port)  # the other sender names no peer: loopback
        try:
            assert connection.send(admission(other_ins, "SIH_AUTRE^CH_AUTRE")).code == "AA"
        finally:
            connection.close()
        assert listening.hospital_facts(first) == ["Hospitalised"]
        assert listening.hospital_facts(second) == ["Hospitalised"]
