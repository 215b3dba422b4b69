"""Server-sent events: one stream per professional, read from the store.

The stream's event ids are the deliveries' sequence numbers, given in commit order, so a client
that reconnects with ``Last-Event-ID: N`` gets exactly what it missed. Without that header a
new client first gets the alerts still open for it. Every process serving streams polls the
store, so an alert taken in by another process reaches the stream too; the ``Hub`` pushes to
this process's streams at once (no polling loop) when the intake ran here."""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from services.notifications import store
from services.notifications.webhook import alert_document
from shared.storage.sqldb import Database

RECONNECT_MS = 5000
BATCH = 100
RECHECK_S = 2.0
"""How often a stream asks again whether its credential holds: a session's is a query, and
every open stream polls several times a second."""
Shown = Callable[[list[str]], None]
"""Records that the stream showed these persons (pathway ids), before it shows them."""


def _nothing(_: list[str]) -> None:
    return None


@dataclass(frozen=True)
class Reader:
    """Who reads a stream. ``sees``: the persons (pathway ids), among those given, whose file
    the reader may read now — the same rule as the REST reads, asked again for every replay,
    resumption and live alert, since a member leaves the circle and a file changes hands
    while a stream is open. ``allowed``: whether the credential that opened the stream still
    holds (a token not expired, a session not signed out)."""

    professional_id: str
    sees: Callable[[set[str]], set[str]]
    allowed: Callable[[], bool] = lambda: True
    shown: Shown = _nothing


CLOSED_SIGNED_OUT = ("event: closed\ndata: {\"reason\":\"signed_out\",\"message\":"
                     "\"Flux fermé : votre session a pris fin. Reconnectez-vous.\"}\n\n")
CLOSED_TOO_MANY = ("event: closed\ndata: {\"reason\":\"too_many_streams\",\"message\":"
                   "\"Flux fermé : un flux plus récent est ouvert pour vous.\"}\n\n")


class Ticket:
    """One open stream; ``closed`` when a newer stream of the same professional took its place."""

    def __init__(self) -> None:
        self.closed = False


class Hub:
    """A change counter the open streams of this process watch, and who holds them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self.closed = False
        self._streams: dict[str, list[Ticket]] = {}
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    async def changed(self, seen: int, timeout_s: float) -> None:
        """Returns as soon as the version moves past ``seen`` (pushed by ``notify`` from any
        thread), or after ``timeout_s``: no polling loop in between."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self.version != seen:
                return
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout_s)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    def _bump(self) -> None:
        """With the lock held: a new version, and every waiting stream woken."""
        self.version += 1
        for loop, event in self._waiters:
            loop.call_soon_threadsafe(event.set)

    def open_stream(self, professional_id: str, most: int) -> Ticket:
        """Registers a stream; the oldest ones beyond ``most`` are told to close."""
        ticket = Ticket()
        with self._lock:
            held = self._streams.setdefault(professional_id, [])
            held.append(ticket)
            while len(held) > most:
                held.pop(0).closed = True
            self._bump()
        return ticket

    def close_stream(self, professional_id: str, ticket: Ticket) -> None:
        with self._lock:
            held = self._streams.get(professional_id, [])
            if ticket in held:
                held.remove(ticket)
            if not held:
                self._streams.pop(professional_id, None)

    def open_count(self, professional_id: str) -> int:
        with self._lock:
            return len(self._streams.get(professional_id, []))

    def notify(self) -> None:
        with self._lock:
            self._bump()

    def close(self) -> None:
        """Ends every open stream (server shutdown)."""
        self.closed = True
        self.notify()


def format_event(delivery: store.Delivery) -> str:
    document = {**alert_document(delivery), "alert_status": delivery.alert.status}
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return f"id: {delivery.seq}\nevent: alert\ndata: {data}\n\n"


def format_notice(notice: store.Notice) -> str:
    document = {"type": notice.kind, "at": notice.at, "message": notice.message}
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return f"id: {notice.seq}\nevent: notice\ndata: {data}\n\n"


def parse_last_event_id(header: str | None) -> int | None:
    if header is None or not header.strip().isdigit():
        return None
    return int(header.strip())


async def stream(db: Database, hub: Hub, reader: Reader, last_event_id: int | None,
                 keepalive_s: float = 15.0, poll_s: float = 1.0,
                 most: int = 3) -> AsyncIterator[str]:
    ticket = hub.open_stream(reader.professional_id, most)
    try:
        async for text in _events(db, hub, ticket, reader, last_event_id, keepalive_s, poll_s):
            yield text
    finally:
        hub.close_stream(reader.professional_id, ticket)


async def _events(db: Database, hub: Hub, ticket: Ticket, reader: Reader,
                  last_event_id: int | None, keepalive_s: float,
                  poll_s: float) -> AsyncIterator[str]:
    yield f"retry: {RECONNECT_MS}\n\n"
    if last_event_id is None:
        cursor = await run_in_threadpool(_last_seq, db, reader.professional_id)
        still_open = await run_in_threadpool(_open, db, reader, cursor)
        await run_in_threadpool(reader.shown, [d.alert.pathway_id for d in still_open])
        for delivery in still_open:
            yield format_event(delivery)
    else:
        cursor = last_event_id
    last_write = recheck = time.monotonic()
    while not hub.closed:
        if ticket.closed:
            yield CLOSED_TOO_MANY
            return
        if time.monotonic() >= recheck:
            if not await run_in_threadpool(reader.allowed):
                yield CLOSED_SIGNED_OUT
                return
            recheck = time.monotonic() + RECHECK_S
        seen, was = hub.version, cursor
        cursor, events = await run_in_threadpool(_after, db, reader, cursor)
        await run_in_threadpool(reader.shown, [person for _, person in events if person])
        for text, _ in events:
            yield text
        if events:
            last_write = time.monotonic()
        if cursor != was:
            continue
        # Woken by this process's intake at once; the poll is for other processes' intakes.
        await hub.changed(seen, min(poll_s, max(0.0, keepalive_s - (time.monotonic()
                                                                     - last_write))))
        if time.monotonic() - last_write >= keepalive_s:
            yield ": keep-alive\n\n"  # a comment: keeps proxies from closing an idle stream
            last_write = time.monotonic()


def _last_seq(db: Database, professional_id: str) -> int:
    with db.transaction() as tx:
        return store.last_stream_seq(tx, professional_id)


def _open(db: Database, reader: Reader, up_to: int) -> list[store.Delivery]:
    with db.transaction() as tx:
        found = store.stream_open(tx, reader.professional_id, up_to)
    seen = reader.sees({d.alert.pathway_id for d in found})
    return [d for d in found if d.alert.pathway_id in seen]


def _after(db: Database, reader: Reader,
           cursor: int) -> tuple[int, list[tuple[str, str | None]]]:
    """The new cursor, and the alerts and notices after the old one that the reader may see,
    in their one order, with the person each names. An alert on a file the reader may no
    longer read is passed over: the cursor moves past it, it is never sent."""
    with db.transaction() as tx:
        deliveries = store.stream_after(tx, reader.professional_id, cursor, BATCH)
        notices = store.notices_after(tx, reader.professional_id, cursor)
    if len(deliveries) == BATCH:  # more to come: a later notice waits for its turn
        notices = [n for n in notices if n.seq < deliveries[-1].seq]
    seen = reader.sees({d.alert.pathway_id for d in deliveries}) if deliveries else set()
    events: list[tuple[int, str | None, str | None]] = [
        (d.seq, format_event(d) if d.alert.pathway_id in seen else None, d.alert.pathway_id)
        for d in deliveries]
    events += [(n.seq, format_notice(n), None) for n in notices]
    events.sort(key=lambda e: e[0])
    cursor = max((seq for seq, _, _ in events), default=cursor)
    return cursor, [(text, person) for _, text, person in events if text is not None]
