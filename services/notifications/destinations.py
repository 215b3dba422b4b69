"""Where a webhook may go: https only, to a public address.

An address is resolved and every address it gives is checked, when the professional sets it
(refused at once, before any connection) and again at each send, where the connection then goes
to the very address that was checked: a name that resolves to a public address when it is set
and to 127.0.0.1 a minute later (DNS rebinding) never reaches inside. Loopback, private,
link-local (the cloud metadata endpoints), multicast, reserved and IPv6 transition (6to4,
Teredo, NAT64) addresses are refused; a
setting lets the tests send plain http to loopback, nothing else."""

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services: link-local on most clouds, but not all of them.
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"))


# IPv6 transition prefixes carry an IPv4 address inside (6to4, Teredo, NAT64): a gateway would
# unwrap 2002:7f00:1:: to 127.0.0.1. A receiver has a native address; these are never called.
TRANSITION = tuple(ipaddress.ip_network(n) for n in (
    "2002::/16", "2001::/32", "64:ff9b::/96", "64:ff9b:1::/48"))


class DestinationRefusedError(Exception):
    """A webhook address the platform will not call; ``code`` is stable, the message French."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Target:
    """A checked destination: where to connect (``address``) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def refusal(address: IpAddress) -> str | None:
    """Why the platform must not call this address, or None when it is a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA:
        return "métadonnées d'hébergement"
    if isinstance(address, ipaddress.IPv6Address) and any(address in n for n in TRANSITION):
        return "passerelle IPv6 vers IPv4"
    if address.is_loopback:
        return "boucle locale"
    if address.is_link_local:
        return "lien local"
    if address.is_multicast:
        return "multidiffusion"
    if address.is_private:
        return "réseau privé"
    if address.is_unspecified or address.is_reserved or not address.is_global:
        return "adresse réservée"
    return None


def check(url: str, allow_loopback_http: bool = False,
          resolve: Resolver | None = None) -> Target:
    """The destination to connect to, or ``DestinationRefusedError``. Resolves once."""
    resolve = resolve or system_resolver
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise DestinationRefusedError("webhook.https_required",
                                      "L'adresse du webhook doit être une URL https:// complète.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise DestinationRefusedError("webhook.invalid_url",
                                      "Le port de l'adresse du webhook est invalide.") from None
    host = parts.hostname
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        raise DestinationRefusedError("webhook.unresolvable",
                                      "Le nom de l'adresse du webhook ne se résout pas.")
    loopback_only = True
    for found in addresses:
        ip = ipaddress.ip_address(found.split("%", 1)[0])
        reason = refusal(ip)
        if reason == "boucle locale" and allow_loopback_http:
            continue
        loopback_only = False
        if reason is not None:
            raise DestinationRefusedError(
                "webhook.address_refused",
                f"L'adresse du webhook mène à une adresse interdite ({reason}) : seules les "
                "adresses publiques sont appelées.")
    if scheme == "http" and not (allow_loopback_http and loopback_only):
        raise DestinationRefusedError("webhook.https_required",
                                      "L'adresse du webhook doit être en https://.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port, path, addresses[0])
