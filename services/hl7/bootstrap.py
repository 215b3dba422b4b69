"""Builds the ADT intake and its listener from the settings and the platform's parts."""

import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime

from services.hl7.intake import AdtIntake
from services.hl7.listener import Limits, Listener, tls_context
from services.hl7.senders import SendersSettingsError, bindings_of
from services.hl7.store import IntakeStore
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from shared.storage.sqldb import Database

DEFAULT_PORT = 2575


def build_listener(settings: Settings, journal: Journal, views: Database,
                   clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Listener:
    check_exposure(settings)
    intake = AdtIntake(journal, IntakeStore(views), settings, clock)
    port = DEFAULT_PORT if settings.hl7_port is None else settings.hl7_port
    limits = Limits(settings.hl7_idle_timeout_s, settings.hl7_frame_timeout_s,
                    settings.hl7_max_message_bytes, settings.hl7_max_connections)
    return Listener(intake, settings.hl7_host, port, limits,
                    tls_context(settings.hl7_tls_cert, settings.hl7_tls_key,
                                settings.hl7_tls_client_ca))


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
