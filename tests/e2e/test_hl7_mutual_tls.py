"""Mutual TLS on the ADT listener: only a client certificate from the configured CA opens a
connection, and a message is taken only from the certificate its sender (MSH-3^MSH-4) is
bound to, by fingerprint or by subject CN. An impostor is answered AR; nothing is applied."""

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.hl7_pki import Authority, Issued, TlsConnection, client_context
from tests.e2e.hl7_running import AUTRE, Served, admission, senders, served


@dataclass
class Pki:
    listening: Served
    ca: Path
    fictif: Issued
    autre: Issued
    stranger: Issued  # the right CN, from another CA

    def connect(self, client: Issued | None) -> TlsConnection:
        return TlsConnection(self.listening.port, client_context(self.ca, client))


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[Pki]:
    ca = Authority(tmp_path)
    server = ca.issue("parcours-hl7", server=True)
    fictif, autre = ca.issue("sih-fictif"), ca.issue("sih-autre")
    (tmp_path / "other").mkdir()
    stranger = Authority(tmp_path / "other", "Autre CA").issue("sih-fictif")
    bound = senders(fictif={"certificate_sha256": fictif.sha256},
                    autre={"certificate_cn": "sih-autre"})
    with served(tmp_path, hl7_tls_cert=server.cert, hl7_tls_key=server.key,
                hl7_tls_client_ca=ca.cert, hl7_senders=bound, hl7_frame_timeout_s=0.3,
                hl7_idle_timeout_s=60) as listening:
        yield Pki(listening, ca.cert, fictif, autre, stranger)


def refused(pki: Pki, client: Issued | None) -> bool:
    """True when the listener would not let this client finish a TLS handshake."""
    try:
        connection = pki.connect(client)
    except (ssl.SSLError, ConnectionError):
        return True
    try:  # under TLS 1.3 the server's verdict on the client comes with the first read
        connection.send(b"MSH|^~\\&|X|Y")
    except (ssl.SSLError, ConnectionError):
        return True
    finally:
        connection.close()
    return False


def test_a_client_without_a_certificate_is_refused(pki: Pki) -> None:
    assert refused(pki, None)


def test_a_certificate_from_another_ca_is_refused(pki: Pki) -> None:
    assert refused(pki, pki.stranger)


def test_a_hospital_speaking_as_another_is_answered_ar_and_nothing_applies(pki: Pki) -> None:
    pathway_id, ins = pki.listening.followed()
    as_other = admission(ins, sender=AUTRE)
    impostor = pki.connect(pki.fictif)  # a valid certificate, but not AUTRE's
    try:
        ack = impostor.send(as_other)
    finally:
        impostor.close()
    assert (ack.code, ack.error) == ("AR", "204")
    assert ack.segments["ERR"][5] == "hl7.sender_certificate_mismatch^^L"
    assert "n'est pas celui de l'émetteur SIH_AUTRE\\S\\CH_AUTRE" in ack.segments["ERR"][8]
    assert pki.listening.hospital_facts(pathway_id) == []
    # Not even remembered as received: the real sender's same message is applied.
    real = pki.connect(pki.autre)
    try:
        assert real.send(as_other).segments["MSA"][3] == "Hospitalisation enregistrée."
    finally:
        real.close()
    assert pki.listening.hospital_facts(pathway_id) == ["Hospitalised"]


def test_a_sender_bound_by_fingerprint_takes_only_that_certificate(pki: Pki) -> None:
    pathway_id, ins = pki.listening.followed()
    same_name = pki.connect(pki.autre)  # AUTRE's certificate speaking as FICTIF
    try:
        assert same_name.send(admission(ins)).code == "AR"
    finally:
        same_name.close()
    assert pki.listening.hospital_facts(pathway_id) == []
    own = pki.connect(pki.fictif)
    try:
        assert own.send(admission(ins)).code == "AA"
    finally:
        own.close()
    assert pki.listening.hospital_facts(pathway_id) == ["Hospitalised"]


def test_a_handshake_left_unfinished_is_closed_after_the_frame_timeout(pki: Pki) -> None:
    with socket.create_connection(("127.0.0.1", pki.listening.port), timeout=10) as silent, \
            contextlib.suppress(ConnectionResetError):
        assert silent.recv(65536) == b""  # closed, well before the socket's 10 s
