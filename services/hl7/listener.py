"""The MLLP listener: TCP (mutual TLS when configured), one asyncio task per connection. A bad
frame is answered AR or ends its own connection; it never stops the listener for the others.

No sender can hold what the others need: at most ``max_connections`` at once (one more is
closed as soon as it is accepted, before its TLS handshake and before reading a byte, as an
interface engine's server does: answering would mean reading a frame, the very resource the cap
keeps), a frame or a handshake begun must end within ``frame_timeout_s``, and a connection
where no frame begins within ``idle_timeout_s`` is closed. A peer no sender may speak from is
closed at once too."""

import asyncio
import hashlib
import ipaddress
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services.hl7.ack import acknowledgement
from services.hl7.intake import AdtIntake
from services.hl7.senders import Peer

log = logging.getLogger(__name__)
START, END = b"\x0b", b"\x1c\x0d"


def frame(payload: bytes) -> bytes:
    return START + payload + END


def tls_context(cert: Path | None, key: Path | None, client_ca: Path | None
                ) -> ssl.SSLContext | None:
    """Mutual TLS: a client certificate signed by ``client_ca`` (and only that CA, not the
    system's) is required, so that the peer's identity can be checked against MSH-3/MSH-4."""
    if cert is None:
        return None
    if client_ca is None:
        raise ValueError("PARCOURS_HL7_TLS_CLIENT_CA is required with PARCOURS_HL7_TLS_CERT")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=client_ca)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(cert, key)
    return context


@dataclass(frozen=True)
class Limits:
    idle_timeout_s: float
    frame_timeout_s: float
    max_message_bytes: int
    max_connections: int


class FramingError(Exception):
    """What follows cannot be trusted as MLLP: answered AR (in French), then closed."""


def peer_of(writer: asyncio.StreamWriter) -> Peer:
    address = ipaddress.ip_address(writer.get_extra_info("peername")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's IPv4 peer is an IPv4 peer
    secure: ssl.SSLObject | None = writer.get_extra_info("ssl_object")
    if secure is None:
        return Peer(address)
    der = secure.getpeercert(binary_form=True)
    if der is None:  # not with CERT_REQUIRED; an empty fingerprint matches no sender
        return Peer(address, "")
    subject: tuple[tuple[tuple[str, str], ...], ...] = \
        (secure.getpeercert() or {}).get("subject", ())  # type: ignore[assignment]
    names = [value for rdn in subject for name, value in rdn if name == "commonName"]
    return Peer(address, hashlib.sha256(der).hexdigest(), names[-1] if names else None)


class Listener:
    def __init__(self, intake: AdtIntake, host: str, port: int, limits: Limits,
                 tls: ssl.SSLContext | None = None) -> None:
        self.intake, self.host, self.port, self.tls = intake, host, port, tls
        self.limits = limits
        self.bound_port: int | None = None
        self.connections: set[asyncio.Task[None]] = set()

    async def serve(self, stop: asyncio.Event, ready: Callable[[int], None] = lambda _: None
                    ) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.StreamReaderProtocol:
            reader = asyncio.StreamReader(limit=self.limits.max_message_bytes)
            return asyncio.StreamReaderProtocol(reader, self._connection)

        # TLS starts in each connection, after the cap: a handshake is work to bound too.
        server = await loop.create_server(protocol, self.host, self.port)
        self.bound_port = server.sockets[0].getsockname()[1]
        log.info("HL7 MLLP listener on %s:%s", self.host, self.bound_port)
        ready(self.bound_port)
        async with server:
            await stop.wait()
            server.close()
            for task in list(self.connections):  # the open connections end with the listener
                task.cancel()
            await asyncio.gather(*self.connections, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
            task.add_done_callback(self.connections.discard)
        try:
            if len(self.connections) > self.limits.max_connections:
                log.warning("HL7: %s connections open, one more closed at once",
                            self.limits.max_connections)
                return
            if self.tls is not None:  # no await before: the ClientHello must reach TLS
                await writer.start_tls(self.tls,
                                       ssl_handshake_timeout=self.limits.frame_timeout_s)
            peer = peer_of(writer)
            if not self.intake.may_connect(peer):
                log.warning("HL7 connection from %s closed: no sender may speak from there",
                            peer.address)
                return
            await self._serve(reader, writer, peer)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, ssl.SSLError):
            pass  # closed by the sender, possibly mid-frame, or too slow, or no valid TLS
        except Exception:
            log.exception("HL7 connection failed")
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     peer: Peer) -> None:
        while True:
            try:
                raw = await self._frame(reader, peer)
            except FramingError as wrong:
                await self._send(writer, self._rejected(str(wrong)))
                return
            ack = await asyncio.to_thread(self.intake.receive, raw, peer)
            await self._send(writer, ack)

    async def _frame(self, reader: asyncio.StreamReader, peer: Peer) -> bytes:
        """The next frame's content. Two clocks: one for a frame to begin, one for it to
        end, so that a byte now and then does not keep a connection for the idle timeout."""
        first = await asyncio.wait_for(reader.readexactly(1), self.limits.idle_timeout_s)
        if first != START:
            # This sender does not speak MLLP, or lost the framing.
            raise FramingError("Trame MLLP invalide : <VT> attendu en début de trame.")
        try:
            block = await asyncio.wait_for(reader.readuntil(END), self.limits.frame_timeout_s)
        except asyncio.LimitOverrunError:
            raise FramingError("Trame trop longue.") from None
        except TimeoutError:
            log.warning("HL7 frame from %s unfinished after %s s: connection closed",
                        peer.address, self.limits.frame_timeout_s)
            raise
        return block[: -len(END)]

    def _rejected(self, text: str) -> bytes:
        return acknowledgement("AR", None, text, self.intake.clock(), 100)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, ack: bytes) -> None:
        writer.write(frame(ack))
        await writer.drain()


@contextmanager
def running(listener: Listener, timeout_s: float = 10) -> Iterator[int]:
    """The listener in a thread of its own (inside `parcours serve`); yields the bound port."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            loop.run_until_complete(listener.serve(stop, lambda _: started.set()))
        except BaseException as error:
            failure.append(error)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="hl7-listener", daemon=True)
    thread.start()
    if not started.wait(timeout_s) or failure:
        raise RuntimeError(f"the HL7 listener did not start: {failure[0] if failure else ''}")
    try:
        assert listener.bound_port is not None
        yield listener.bound_port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
