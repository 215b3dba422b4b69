"""The ADT listener over TLS: a sender that trusts the listener's certificate and shows its own
client certificate is served; one that speaks plain TCP gets nothing and the listener keeps
serving."""

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.hl7_helpers import END, START, message
from tests.e2e.hl7_pki import Authority, Issued, TlsConnection, client_context
from tests.e2e.hl7_running import senders, served


@pytest.fixture
def tls_listener(tmp_path: Path) -> Iterator[tuple[int, Path, Issued]]:
    ca = Authority(tmp_path)
    server, client = ca.issue("parcours-hl7", server=True), ca.issue("sih-fictif")
    with served(tmp_path, hl7_tls_cert=server.cert, hl7_tls_key=server.key,
                hl7_tls_client_ca=ca.cert,
                hl7_senders=senders(fictif={"certificate_cn": "sih-fictif"},
                                    autre={"certificate_cn": "sih-autre"})) as listening:
        yield listening.port, ca.cert, client


def test_a_sender_speaking_tls_is_served(tls_listener: tuple[int, Path, Issued]) -> None:
    port, ca, client = tls_listener
    connection = TlsConnection(port, client_context(ca, client))
    try:
        assert connection.send(message("a08", INS="")).code == "AA"
    finally:
        connection.close()


def test_plain_tcp_gets_nothing_and_the_listener_goes_on(
        tls_listener: tuple[int, Path, Issued]) -> None:
    port = tls_listener[0]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
        plain.sendall(START + message("a08", INS="") + END)
        with contextlib.suppress(ConnectionResetError):  # reset or closed: both refuse
            assert plain.recv(65536) == b""  # no ACK: the handshake failed
    test_a_sender_speaking_tls_is_served(tls_listener)
