"""The ``parcours`` command: one subcommand per process or tool, each running what
``parcours/bootstrap.py`` builds (signals, start-up waits, progress, exit codes).

Over 300 lines on purpose: it is the whole command line in one place, each subcommand a screen
at most, and ``parcours --help`` reads in the same order."""

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from shared.runtime.settings import Settings

if TYPE_CHECKING:
    from shared.journal.application import Journal

app = typer.Typer(help="Parcours: event-sourced coordination for case management.",
                  no_args_is_help=True)
schema_app = typer.Typer(help="The public event contract.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
hl7_app = typer.Typer(help="The hospitals' HL7 v2 ADT feed (IHE PAM France).",
                      no_args_is_help=True)
app.add_typer(hl7_app, name="hl7")
audit_app = typer.Typer(help="The read audit.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _every(work: Callable[[], object], interval_s: float, stop: threading.Event,
           name: str = "scheduler") -> None:
    """Runs ``work`` every interval until stopped. An outage of PostgreSQL or Kafka is waited
    out with backoff and logged once; any other failure is logged with its trace and the next
    round tries again (a thread that died silently would stop every alert)."""
    from shared.runtime.resilience import Backoff, is_outage

    log = logging.getLogger("parcours")
    backoff = Backoff(name, log)
    while not stop.wait(interval_s):
        try:
            work()
        except Exception as error:
            if is_outage(error):
                backoff.failed(error, stop)
            else:
                log.exception("%s failed; retrying", name)
            continue
        backoff.succeeded()


def _woken(work: Callable[[], object], wake: threading.Event, interval_s: float,
           stop: threading.Event) -> None:
    """Like ``_every``, and at once when ``wake`` is set (an alert due as soon as the event
    that makes it is applied)."""
    while not stop.is_set():
        wake.wait(interval_s)
        wake.clear()  # before the work: a wake during it is not lost
        if stop.is_set():
            return
        try:
            work()
        except Exception:
            logging.getLogger("parcours").exception("%s failed; retrying", work)


def _load_demo(journal: "Journal", seed: int = 2026) -> None:
    from parcours.demo import load_demo

    with typer.progressbar(length=1, label="Demo territory") as bar:
        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        summary = load_demo(journal, seed=seed, progress=advance)
    typer.echo(summary.describe())


@app.command()
def demo(seed: Annotated[int, typer.Option(help="Random seed of the story")] = 2026) -> None:
    """Fill an empty store with the fictitious demo territory, through the API's commands."""
    from parcours.bootstrap import build_journal
    from parcours.demo import is_empty

    journal = build_journal(Settings())
    try:
        if not is_empty(journal):
            raise typer.BadParameter("the store is not empty; the demo loads into an empty one")
        _load_demo(journal, seed)
    finally:
        journal.close()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT or 8000)")] = None,
) -> None:
    """Serve the HTTP API (and, in the embedded mode, the projections in process)."""
    import uvicorn

    from parcours.bootstrap import build_journal, create_app
    from parcours.demo import is_empty
    from shared.api import access_log
    from shared.api.auth import DevelopmentKeyError
    from shared.storage.audit_anchor import AuditAnchor, AuditSetupError

    settings = Settings()
    try:
        AuditAnchor.from_settings(settings)  # before the demo's load: refuse a missing key now
    except AuditSetupError as error:
        raise typer.BadParameter(str(error)) from None
    _logging()
    if settings.mode == "embedded" and settings.demo_on_empty:
        # Before the server starts, so that it never shares the journal during the load.
        journal = build_journal(settings)
        try:
            if is_empty(journal):
                typer.echo("Empty store: loading the fictitious demo territory "
                           "(PARCOURS_DEMO_ON_EMPTY=false turns this off)")
                _load_demo(journal)
        finally:
            journal.close()
    host, port = host or settings.host, port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    try:
        application = create_app(settings)
    except (DevelopmentKeyError, AuditSetupError) as error:
        raise typer.BadParameter(str(error)) from None
    typer.echo(f"Parcours ({settings.mode}) on http://{host}:{port} — API documentation at /docs")
    # The alert streams never end by themselves: give them a few seconds at shutdown.
    uvicorn.run(application, host=host, port=port, server_header=False,
                timeout_graceful_shutdown=3, log_config=access_log.log_config())


@app.command()
def relay() -> None:
    """Publish the event store's log to Kafka, in order, resuming where it stopped."""
    from parcours.bootstrap import build_relay
    from shared.runtime.resilience import Backoff, retrying
    from shared.runtime.startup import wait_for_services

    stop = _stop_on_signals()  # first: a stop asked during start-up must not be lost
    settings = Settings()
    _logging()
    if not wait_for_services(settings, stop, "relay"):
        return  # stopped while waiting for PostgreSQL or Kafka
    starting = Backoff("relay start-up", logging.getLogger("parcours"))
    the_relay = retrying(lambda: build_relay(settings), starting, stop)
    if the_relay is None:
        return  # stopped while waiting for PostgreSQL or Kafka
    try:
        position = retrying(the_relay.position, starting, stop)
        if position is None:
            return  # stopped while waiting for Kafka
        typer.echo(f"relay: {settings.topic} from position {position}")
        the_relay.run(stop, settings.relay_idle_wait_s)
    finally:
        the_relay.close()


PROJECTION_NAMES = "caseload, ruptures, contacts or dysfunctions"


@app.command()
def project(name: Annotated[str, typer.Argument(help=f"Projection to run: {PROJECTION_NAMES}")],
            ) -> None:
    """Run one projection as a Kafka consumer group member."""
    from parcours.bootstrap import PROJECTIONS, build_projection_process
    from shared.runtime.resilience import Backoff, retrying
    from shared.runtime.startup import wait_for_services

    if name not in PROJECTIONS:
        raise typer.BadParameter(f"unknown projection {name!r}; known: {', '.join(PROJECTIONS)}")
    stop = _stop_on_signals()  # first: a stop asked during start-up must not be lost
    settings = Settings()
    _logging()
    if not wait_for_services(settings, stop, f"projection {name}"):
        return  # stopped while waiting for PostgreSQL or Kafka
    process = retrying(lambda: build_projection_process(settings, name),
                       Backoff(f"projection {name} start-up", logging.getLogger("parcours")),
                       stop)
    if process is None:
        return  # stopped while waiting for PostgreSQL or Kafka
    typer.echo(f"projection {name}: consuming {settings.topic} as {process.projector.group_id}")
    if process.scheduler is not None and process.due_now is not None:
        threading.Thread(target=_woken, args=(process.scheduler.fire_due, process.due_now,
                                              settings.scheduler_interval_s, stop),
                         name="scheduler", daemon=True).start()
    process.projector.run(stop)


@app.command()
def notify() -> None:
    """Deliver alerts to professionals (SSE, webhooks, e-mail), with its own HTTP API."""
    from parcours.bootstrap import WrongModeError, run_notifier
    from shared.api.auth import DevelopmentKeyError
    from shared.storage.audit_anchor import AuditSetupError

    stop = _stop_on_signals()
    _logging()
    try:
        run_notifier(Settings(), stop)
    except (WrongModeError, DevelopmentKeyError, AuditSetupError) as error:
        raise typer.BadParameter(str(error)) from None


def notify_main() -> None:
    """``python -m services.notifications``: ``parcours notify``, a setting that can never
    work ending it with status 1 and its message."""
    from parcours.bootstrap import WrongModeError, run_notifier
    from shared.api.auth import DevelopmentKeyError
    from shared.storage.audit_anchor import AuditSetupError

    _logging()
    stop = _stop_on_signals()
    try:
        run_notifier(Settings(), stop)
    except (WrongModeError, DevelopmentKeyError, AuditSetupError) as error:
        sys.exit(f"notifications: {error}")


@app.command()
def replay(name: Annotated[str, typer.Argument(
               help=f"Projection to rebuild: {PROJECTION_NAMES}, or all of them: all")],
           source_name: Annotated[str, typer.Option(
               "--source", help="kafka (the topic) or store (the event store's log, when the "
               "topic's retention is shorter than the history); default: kafka in the "
               "distributed set-up, store in the embedded one")] = "",
           ) -> None:
    """Rebuild projections from the beginning beside the live ones, then swap them in.
    ``all`` reads the log once and feeds every projection."""
    from functools import partial

    from parcours.bootstrap import PROJECTIONS, build_journal, views_database
    from shared.journal.store import read_log
    from shared.streaming.projecting import LogReplaySource, Replayable
    from shared.streaming.replay import ReplaySource, replay_all

    names = list(PROJECTIONS) if name == "all" else [name]
    if name != "all" and name not in PROJECTIONS:
        raise typer.BadParameter(f"unknown projection {name!r}; known: {', '.join(PROJECTIONS)}"
                                 ", all")
    settings = Settings()
    projections = [PROJECTIONS[n](settings) for n in names]
    if not all(hasattr(projection, "renamed") for projection in projections):
        raise typer.BadParameter(f"projection {name!r} cannot be replayed")
    chosen = source_name or ("store" if settings.mode == "embedded" else "kafka")
    if chosen not in ("kafka", "store") or (chosen == "kafka" and settings.mode == "embedded"):
        raise typer.BadParameter(f"unknown source {chosen!r} here: kafka (distributed) or store")
    source: ReplaySource
    if chosen == "store":
        journal = build_journal(settings)
        source = LogReplaySource(partial(read_log, journal),
                                 journal.recorder.max_notification_id, batch_size=2000)
    else:
        from shared.streaming.kafka_io import KafkaReplaySource

        source = KafkaReplaySource(settings)
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.monotonic() - started, 1e-6)
        width = 30
        filled = int(width * done / max(total, 1))
        typer.echo(f"\rreplay {name}: [{'#' * filled}{'.' * (width - filled)}] "
                   f"{done}/{total} events, {rate:,.0f} events/s", nl=False, err=True)

    count = replay_all(views_database(settings), cast(list[Replayable], projections), source,
                       progress)
    typer.echo(f"\nreplay {name}: {count} events in {time.monotonic() - started:.1f} s, "
               "rebuilt tables swapped in", err=True)


@app.command()
def token(user: Annotated[str, typer.Argument(help="A demo user: coord-demo, gc-anne, …")]) -> None:
    """Print a development token for one of the demo's users (embedded set-up only)."""
    from parcours.devauth import DEMO_USERS, token_for

    principal = DEMO_USERS.get(user)
    if principal is None:
        raise typer.BadParameter(f"unknown demo user {user!r}; known: {', '.join(DEMO_USERS)}")
    try:
        typer.echo(token_for(Settings(), principal))
    except RuntimeError as error:
        raise typer.BadParameter(str(error)) from None


@hl7_app.command("listen")
def hl7_listen() -> None:
    """Receive ADT messages over MLLP on $PARCOURS_HL7_PORT (2575) and apply them."""
    import asyncio

    from parcours.bootstrap import build_adt_process

    settings = Settings()
    _logging()
    adt = build_adt_process(settings)
    listener = adt.listener

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await listener.serve(stop, lambda port: typer.echo(
            f"hl7: MLLP on {settings.hl7_host}:{port}, "
            f"{len(settings.hl7_senders)} known sender(s)"))

    try:
        asyncio.run(serve())
    finally:
        adt.close()


@hl7_app.command("send")
def hl7_send(
    path: Annotated[Path, typer.Argument(help="An HL7 v2 message, one segment per line")],
    host: Annotated[str, typer.Option(help="Listener's address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listener's port")] = 2575,
) -> None:
    """Send one message over MLLP and print the acknowledgement (to try the feed)."""
    import socket

    payload = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(b"\x0b" + payload + b"\x1c\x0d")
        answer = b""
        while not answer.endswith(b"\x1c\x0d"):
            chunk = connection.recv(65536)
            if not chunk:
                raise typer.BadParameter("the listener closed the connection without an ACK")
            answer += chunk
    charset = "iso-8859-1" if b"8859/1" in answer else "utf-8"
    typer.echo(answer.strip(b"\x0b\x1c\r").decode(charset).replace("\r", "\n"))


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write one JSON Schema per event type and version into DIRECTORY."""
    from shared.events.schema import export

    for path in export(directory):
        typer.echo(path)


@audit_app.command("verify")
def audit_verify(
    legacy_until: Annotated[int | None, typer.Option(
        help="Records 1 to N were written before the key (plain SHA-256): say so when no "
             "legacy checkpoint does (the checkpoint file was lost)")] = None,
) -> None:
    """Check the read audit: its keyed hash chain, and every checkpoint of the checkpoint file
    against the record it names. Exit 0 when intact, 1 when a record was removed or changed,
    the chain rewritten, or its end cut (the first broken record is named)."""
    from parcours.bootstrap import views_database
    from shared.storage.audit import AuditLog, AuditSetupError
    from shared.storage.audit_anchor import AuditAnchor

    settings = Settings()
    try:
        anchor = AuditAnchor.from_settings(settings)
    except AuditSetupError as error:
        raise typer.BadParameter(str(error)) from None
    db = views_database(settings)
    try:
        verdict = AuditLog(db, anchor).verify(legacy_until)
    except AuditSetupError as error:
        raise typer.BadParameter(str(error)) from None
    finally:
        db.close()
    if not verdict.intact:
        where = f" at record {verdict.broken_at}" if verdict.broken_at else ""
        typer.echo(f"read audit BROKEN{where}: {verdict.reason} "
                   f"({verdict.records} records verified before it)", err=True)
        raise typer.Exit(1)
    typer.echo(f"read audit intact: {verdict.records} records, chain verified with the "
               f"audit's key; {verdict.checkpoints} checkpoints of {anchor.path} match it")
    if verdict.legacy:
        typer.echo(f"note: records 1 to {verdict.legacy} predate the key and are checked "
                   "with plain SHA-256 only: someone with every right on the database could "
                   "have rewritten them before the key was set")
    if not verdict.checkpoints and verdict.records:
        typer.echo(f"warning: no checkpoint in {anchor.path} vouches for this chain, so "
                   "records cut from its end would not show: run `parcours audit checkpoint`")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Anchor the read audit's head now: appends a signed checkpoint (record number and hash)
    to the checkpoint file, outside the database (run it from cron between the automatic
    ones)."""
    from parcours.bootstrap import views_database
    from shared.storage.audit import AuditLog, AuditSetupError
    from shared.storage.audit_anchor import AuditAnchor

    settings = Settings()
    try:
        anchor = AuditAnchor.from_settings(settings)
    except AuditSetupError as error:
        raise typer.BadParameter(str(error)) from None
    db = views_database(settings)
    try:
        mark = AuditLog(db, anchor).checkpoint()
    except AuditSetupError as error:
        raise typer.BadParameter(str(error)) from None
    finally:
        db.close()
    if mark is None:
        typer.echo("the read audit is empty: nothing to anchor yet")
        return
    typer.echo(f"checkpoint: record {mark.seq}, hash {mark.hash[:16]}…, in {anchor.path}")
