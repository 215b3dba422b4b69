"""The MLLP listener: TCP (optionally TLS), one asyncio task per connection, frames read with
the ``hl7`` package's MLLP stream reader. A bad frame is answered AR or ends its own
connection; it never stops the listener for the other senders."""

import asyncio
import logging
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hl7.mllp import InvalidBlockError, MLLPStreamReader

from services.hl7.ack import acknowledgement
from services.hl7.intake import AdtIntake

log = logging.getLogger(__name__)
START, END = b"\x0b", b"\x1c\x0d"


def frame(payload: bytes) -> bytes:
    return START + payload + END


def tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    if cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class Listener:
    def __init__(self, intake: AdtIntake, host: str, port: int, idle_timeout_s: float,
                 max_message_bytes: int, tls: ssl.SSLContext | None = None) -> None:
        self.intake, self.host, self.port, self.tls = intake, host, port, tls
        self.idle_timeout_s, self.max_message_bytes = idle_timeout_s, max_message_bytes
        self.bound_port: int | None = None
        self.connections: set[asyncio.Task[None]] = set()

    async def serve(self, stop: asyncio.Event, ready: Callable[[int], None] = lambda _: None
                    ) -> None:
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.StreamReaderProtocol:
            reader = MLLPStreamReader(limit=self.max_message_bytes)
            return asyncio.StreamReaderProtocol(reader, self._connection)

        server = await loop.create_server(protocol, self.host, self.port, ssl=self.tls)
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
        assert isinstance(reader, MLLPStreamReader)
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
            task.add_done_callback(self.connections.discard)
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(reader.readblock(), self.idle_timeout_s)
                except InvalidBlockError:
                    # Bytes outside a frame: this sender does not speak MLLP (or lost the
                    # framing); what follows cannot be trusted. Answer, then close.
                    await self._send(writer, self._rejected("Trame MLLP invalide : <VT> "
                                                            "attendu en début de trame."))
                    break
                except ValueError:
                    # Longer than any ADT message: answer, then close, for the same reason.
                    await self._send(writer, self._rejected("Trame trop longue."))
                    break
                ack = await asyncio.to_thread(self.intake.receive, raw)
                await self._send(writer, ack)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # closed by the sender, possibly mid-frame, or idle too long
        except Exception:
            log.exception("HL7 connection failed")
        finally:
            writer.close()

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
