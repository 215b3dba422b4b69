"""The ADT listener over TLS: a sender that trusts the listener's certificate is served; one
that speaks plain TCP gets nothing and the listener keeps serving."""

import contextlib
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.hl7.bootstrap import build_listener
from services.hl7.listener import running
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import SqliteDatabase
from tests.e2e.hl7_helpers import END, START, Ack, message


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "listener.pem", folder / "listener.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_listener(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    cert, key = self_signed(tmp_path)
    settings = Settings(mode="embedded", data_dir=tmp_path / "var", hl7_port=0,
                        hl7_tls_cert=cert, hl7_tls_key=key)
    journal = Journal(env=settings.journal_env())
    views = SqliteDatabase(settings.views_sqlite_path)
    try:
        with running(build_listener(settings, journal, views)) as port:
            yield port, cert
    finally:
        views.close()
        journal.close()


def test_a_sender_speaking_tls_is_served(tls_listener: tuple[int, Path]) -> None:
    port, cert = tls_listener
    context = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as secure:
        secure.sendall(START + message("a08", INS="") + END)
        answer = b""
        while END not in answer:
            answer += secure.recv(65536)
    assert Ack(answer[1:answer.index(END)]).code == "AA"


def test_plain_tcp_gets_nothing_and_the_listener_goes_on(
        tls_listener: tuple[int, Path]) -> None:
    port = tls_listener[0]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
        plain.sendall(START + message("a08", INS="") + END)
        with contextlib.suppress(ConnectionResetError):  # reset or closed: both refuse
            assert plain.recv(65536) == b""  # no ACK: the handshake failed
    test_a_sender_speaking_tls_is_served(tls_listener)
