"""Who may speak as a hospital, from the settings alone: the listener refuses to start where any
process could, the allow-list keeps its old form, and a binding holds for the peer only."""

from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from services.hl7.messages import Header
from services.hl7.senders import (
    CERTIFICATE_MISMATCH,
    PEER_NOT_ALLOWED,
    Binding,
    Peer,
    SenderRefusedError,
    SendersSettingsError,
    bindings_of,
    check_exposure,
    senders_of,
)
from shared.runtime.settings import Settings

KEY = "SIH_FICTIF^CH_VILLEFICTIVE"
FINGERPRINT = "ab" * 32
HEADER = Header("SIH_FICTIF", "CH_VILLEFICTIVE", "MSG-1", "ADT^A01^ADT_A01", "UNICODE UTF-8")
TLS = {"hl7_tls_cert": Path("listener.pem"), "hl7_tls_key": Path("listener.key")}


def settings(entry: Any = "dac-val-fictif", **values: Any) -> Settings:
    return Settings(hl7_senders={KEY: entry}, **values)


def refusal(binding: Binding, peer: Peer) -> str | None:
    try:
        binding.check(peer, HEADER)
    except SenderRefusedError as refused:
        assert (refused.hl7_code, refused.ack) == (204, "AR")
        return refused.code
    return None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.1.2.3", "hl7.example.org"])
def test_a_port_open_to_the_network_without_named_peers_does_not_start(host: str) -> None:
    with pytest.raises(SendersSettingsError, match=r"PARCOURS_HL7_HOST=.*PARCOURS_HL7_SENDERS"
                                                   r".*\"peers\""):
        check_exposure(settings(hl7_host=host))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_this_host_only_needs_no_peers(host: str) -> None:
    check_exposure(settings(hl7_host=host))


def test_named_peers_or_mutual_tls_open_the_port_to_the_network() -> None:
    check_exposure(settings({"territory": "t", "peers": ["10.1.2.3"]}, hl7_host="0.0.0.0"))
    check_exposure(settings({"territory": "t", "certificate_cn": "sih"}, hl7_host="0.0.0.0",
                            hl7_tls_client_ca=Path("ca.pem"), **TLS))


def test_tls_without_a_client_ca_does_not_start() -> None:
    with pytest.raises(SendersSettingsError, match="PARCOURS_HL7_TLS_CLIENT_CA is required"):
        check_exposure(settings({"territory": "t", "certificate_cn": "sih"}, **TLS))


def test_a_client_ca_without_tls_does_not_start() -> None:
    with pytest.raises(SendersSettingsError, match="without PARCOURS_HL7_TLS_CERT"):
        check_exposure(settings(hl7_tls_client_ca=Path("ca.pem")))


def test_under_tls_a_sender_bound_to_no_certificate_does_not_start() -> None:
    with pytest.raises(SendersSettingsError, match=r"certificate_sha256.*SIH_FICTIF"):
        check_exposure(settings({"territory": "t", "peers": ["10.1.2.3"]},
                                hl7_tls_client_ca=Path("ca.pem"), **TLS))


def test_the_old_allow_list_reads_as_before() -> None:
    config = Settings(hl7_senders={KEY: "dac-a", "B^C": {"territory": "dac-b",
                                                         "establishment": "CH B"}})
    assert [(s.territory, s.establishment) for s in senders_of(config).values()] == [
        ("dac-a", ""), ("dac-b", "CH B")]
    assert set(bindings_of(config).values()) == {Binding(KEY), Binding("B^C")}


def test_bindings_read_fingerprints_in_any_usual_spelling() -> None:
    colons = ":".join(["AB"] * 32)
    binding = bindings_of(settings({"territory": "t", "certificate_sha256": [colons, "cd" * 32],
                                    "certificate_cn": "sih", "peers": "10.0.0.0/8"}))[KEY]
    assert binding.fingerprints == {FINGERPRINT, "cd" * 32}
    assert binding.common_name == "sih" and [str(p) for p in binding.peers] == ["10.0.0.0/8"]


@pytest.mark.parametrize("entry", [
    {"territory": "t", "certificate_sha256": "ab" * 31},
    {"territory": "t", "peers": ["10.0.0.300"]},
    {"territory": "t", "peer": ["10.1.2.3"]},  # misspelt: must not read as "no peers"
    {"establishment": "CH"},
])
def test_a_wrong_entry_is_refused(entry: dict[str, Any]) -> None:
    with pytest.raises(SendersSettingsError, match=r"PARCOURS_HL7_SENDERS\['SIH_FICTIF"):
        bindings_of(settings(entry))
        senders_of(settings(entry))


def test_without_tls_a_sender_naming_no_peers_speaks_from_this_host_only() -> None:
    binding = Binding(KEY)
    assert refusal(binding, Peer(ip_address("127.0.0.1"))) is None
    assert refusal(binding, Peer(ip_address("::1"))) is None
    assert refusal(binding, Peer(ip_address("10.1.2.3"))) == PEER_NOT_ALLOWED


def test_named_peers_are_the_only_ones_and_an_ipv4_peer_is_in_no_ipv6_network() -> None:
    binding = bindings_of(settings({"territory": "t", "peers": ["10.1.2.3", "::/0"]}))[KEY]
    assert refusal(binding, Peer(ip_address("10.1.2.3"))) is None
    assert refusal(binding, Peer(ip_address("10.1.2.4"))) == PEER_NOT_ALLOWED
    assert refusal(binding, Peer(ip_address("127.0.0.1"))) == PEER_NOT_ALLOWED


def test_under_tls_the_certificate_must_be_the_senders() -> None:
    both = Binding(KEY, frozenset({FINGERPRINT}), "sih")
    here = ip_address("10.1.2.3")
    assert refusal(both, Peer(here, FINGERPRINT, "sih")) is None
    assert refusal(both, Peer(here, FINGERPRINT, "other")) == CERTIFICATE_MISMATCH
    assert refusal(both, Peer(here, "cd" * 32, "sih")) == CERTIFICATE_MISMATCH
    assert refusal(Binding(KEY), Peer(here, FINGERPRINT, "sih")) == CERTIFICATE_MISMATCH
