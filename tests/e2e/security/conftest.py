"""The security suite: each test plays an attack through HTTP on the embedded platform.

Traffic goes to loopback only. ``outside`` fails a test that would open a connection, or ask
a name server, about anything else: the refusal of internal addresses is checked when they are
set and before any connection, never by calling them."""

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.notifications import destinations
from tests.e2e.security.served import Served, serving


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"


def _is_numeric(host: str) -> bool:
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
            return True
        except ValueError:
            return False


class Outside:
    """Records every attempt to reach a non-loopback address or an outside name server."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[str] = []
        self.names: dict[str, list[str]] = {}
        connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo
        guard = self

        def checked_connect(sock: socket.socket, address: Any) -> Any:
            host = address[0] if isinstance(address, tuple) else str(address)
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
                guard.attempts.append(f"connect {host}")
                raise AssertionError(f"a test tried to connect to {host}")
            return connect(sock, address)

        def checked_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            name = host.decode() if isinstance(host, bytes) else host
            if name is not None and not _is_numeric(name) and name != "localhost":
                guard.attempts.append(f"resolve {name}")
                raise socket.gaierror(socket.EAI_NONAME, "no name server in the tests")
            return getaddrinfo(host, *args, **kwargs)

        def fake_resolver(host: str, port: int) -> list[str]:
            if host in guard.names:
                return guard.names[host]
            return [str(i[4][0])
                    for i in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]

        monkeypatch.setattr(socket.socket, "connect", checked_connect)
        monkeypatch.setattr(socket, "getaddrinfo", checked_getaddrinfo)
        monkeypatch.setattr(destinations, "system_resolver", fake_resolver)

    def name(self, host: str, *addresses: str) -> None:
        """What the (fake) name server answers for ``host`` from now on."""
        self.names[host] = list(addresses)


@pytest.fixture
def outside(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outside]:
    guard = Outside(monkeypatch)
    yield guard
    assert guard.attempts == [], guard.attempts


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    yield from serving(tmp_path, monkeypatch)
