"""The allow-list of senders, and what binds each to the connection it speaks on. MSH-3 and
MSH-4 are what a message says of itself; the peer's address and its verified TLS client
certificate are what the network and the CA say. A message is taken only when they agree."""

import ipaddress
from dataclasses import dataclass, field

from services.hl7.mapping import Sender
from services.hl7.messages import Header, MessageRejectedError
from shared.runtime.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
CERTIFICATE_MISMATCH = "hl7.sender_certificate_mismatch"
PEER_NOT_ALLOWED = "hl7.sender_peer_not_allowed"
KEYS = {"territory", "establishment", "certificate_sha256", "certificate_cn", "peers"}


class SendersSettingsError(ValueError):
    """The listener's settings are wrong, or would let any process speak as a hospital."""


class SenderRefusedError(MessageRejectedError):
    """The message names a sender its connection does not speak for: AR, nothing applied.
    ``code`` is Parcours' own, stable, for the hospital's interface engine (ERR-5)."""

    def __init__(self, code: str, message: str, header: Header) -> None:
        super().__init__(204, message, header, "AR")
        self.code = code


@dataclass(frozen=True)
class Peer:
    """The other end of a connection as the network and TLS tell it; the fingerprint is the
    SHA-256 of the client certificate (DER, lower-case hex), None without TLS."""

    address: Address
    certificate_sha256: str | None = None
    certificate_cn: str | None = None

    @property
    def tls(self) -> bool:
        return self.certificate_sha256 is not None


@dataclass(frozen=True)
class Binding:
    """What a sender's connection must show: its certificate (fingerprints, any one of them
    while a certificate is renewed, and/or the subject's CN), the addresses it comes from."""

    key: str
    fingerprints: frozenset[str] = frozenset()
    common_name: str | None = None
    peers: tuple[Network, ...] = field(default=())

    @property
    def has_certificate(self) -> bool:
        return bool(self.fingerprints) or self.common_name is not None

    def allows_address(self, address: Address, tls: bool) -> bool:
        """Without TLS and without named peers only this host's own processes may send: a
        port open to the network would otherwise take any machine's word for a hospital."""
        if self.peers:
            return any(address in network for network in self.peers)
        return tls or address.is_loopback

    def check(self, peer: Peer, header: Header) -> None:
        if not self.allows_address(peer.address, peer.tls):
            raise SenderRefusedError(
                PEER_NOT_ALLOWED, f"L'adresse {peer.address} n'est pas autorisée pour "
                f"l'émetteur {self.key} : message refusé, rien n'est enregistré.", header)
        if peer.tls and not self._certificate_matches(peer):
            raise SenderRefusedError(
                CERTIFICATE_MISMATCH, f"Le certificat client de la connexion (CN "
                f"{peer.certificate_cn or 'absent'}, SHA-256 {peer.certificate_sha256}) n'est "
                f"pas celui de l'émetteur {self.key} : message refusé, rien n'est "
                "enregistré.", header)

    def _certificate_matches(self, peer: Peer) -> bool:
        if not self.has_certificate:
            return False
        if self.fingerprints and peer.certificate_sha256 not in self.fingerprints:
            return False
        return self.common_name is None or peer.certificate_cn == self.common_name


def senders_of(settings: Settings) -> dict[str, Sender]:
    """The allow-list: "<MSH-3>^<MSH-4>" → a territory, or {territory, establishment, …}."""
    known = {}
    for key, value in settings.hl7_senders.items():
        entry = _entry(key, value)
        known[key] = Sender(key, _text(key, entry, "territory", required=True),
                            _text(key, entry, "establishment"))
    return known


def bindings_of(settings: Settings) -> dict[str, Binding]:
    bindings = {}
    for key, value in settings.hl7_senders.items():
        entry = _entry(key, value)
        bindings[key] = Binding(
            key, frozenset(_fingerprint(key, f) for f in _texts(entry, "certificate_sha256")),
            _text(key, entry, "certificate_cn") or None,
            tuple(_network(key, p) for p in _texts(entry, "peers")))
    return bindings


def _entry(key: str, value: str | dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    if isinstance(value, str):
        return {"territory": value}
    unknown = set(value) - KEYS
    if unknown:  # a misspelt binding must not pass for an absent one
        raise SendersSettingsError(f"PARCOURS_HL7_SENDERS[{key!r}]: unknown key(s) "
                                   f"{sorted(unknown)}; known: {sorted(KEYS)}")
    return value


def _text(key: str, entry: dict[str, str | list[str]], name: str, required: bool = False
          ) -> str:
    value = entry.get(name, "")
    if not isinstance(value, str) or (required and not value):
        raise SendersSettingsError(f"PARCOURS_HL7_SENDERS[{key!r}].{name} must be a "
                                   f"{'non-empty ' if required else ''}string")
    return value


def _texts(entry: dict[str, str | list[str]], name: str) -> list[str]:
    value = entry.get(name, [])
    return [value] if isinstance(value, str) else list(value)


def _fingerprint(key: str, text: str) -> str:
    digits = text.replace(":", "").replace(" ", "").lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise SendersSettingsError(f"PARCOURS_HL7_SENDERS[{key!r}].certificate_sha256: "
                                   f"{text!r} is not a SHA-256 fingerprint (64 hex digits)")
    return digits


def _network(key: str, text: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise SendersSettingsError(f"PARCOURS_HL7_SENDERS[{key!r}].peers: {text!r} is not an "
                                   "IP address or network") from None


def check_exposure(settings: Settings) -> None:
    """Refuses, before listening, the settings under which a process could speak as a
    hospital: TLS that verifies no client, a sender bound to no certificate under TLS, a port
    open to the network with no sender's peers named."""
    bindings = bindings_of(settings)
    tls, client_ca = settings.hl7_tls_cert is not None, settings.hl7_tls_client_ca is not None
    if tls and not client_ca:
        raise SendersSettingsError(
            "PARCOURS_HL7_TLS_CLIENT_CA is required with PARCOURS_HL7_TLS_CERT: the listener "
            "verifies each hospital's client certificate against that CA (PEM).")
    if client_ca and not tls:
        raise SendersSettingsError(
            "PARCOURS_HL7_TLS_CLIENT_CA is set without PARCOURS_HL7_TLS_CERT and "
            "PARCOURS_HL7_TLS_KEY: the listener would not use TLS at all.")
    if tls:
        unbound = sorted(key for key, binding in bindings.items()
                         if not binding.has_certificate)
        if unbound:
            raise SendersSettingsError(
                f"PARCOURS_HL7_SENDERS: with TLS each sender needs its client certificate, "
                f"\"certificate_sha256\" and/or \"certificate_cn\"; missing for {unbound}.")
    elif not _loopback(settings.hl7_host) and not any(b.peers for b in bindings.values()):
        raise SendersSettingsError(
            f"PARCOURS_HL7_HOST={settings.hl7_host!r} is not a loopback address: without TLS "
            "(PARCOURS_HL7_TLS_CERT, PARCOURS_HL7_TLS_KEY, PARCOURS_HL7_TLS_CLIENT_CA) the "
            "listener serves other machines only at the addresses PARCOURS_HL7_SENDERS names "
            "for a sender (\"peers\"), and it names none.")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name, or "" for every interface: not known to be loopback
        return False
