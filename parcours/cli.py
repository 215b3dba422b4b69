"""The ``parcours`` command."""

import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from shared.settings import get_settings

app = typer.Typer(help="Parcours: event-sourced coordination for case management.",
                  no_args_is_help=True)
schema_app = typer.Typer(help="The public event contract.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: $PORT or 8000)")] = None,
) -> None:
    """Serve the HTTP API (and, in the embedded mode, the projections in process)."""
    import uvicorn

    from parcours.web import create_app

    settings = get_settings()
    _logging()
    host, port = host or settings.host, port or settings.port
    typer.echo(f"Parcours ({settings.mode}) on http://{host}:{port} — API documentation at /docs")
    uvicorn.run(create_app(settings), host=host, port=port)


@app.command()
def relay() -> None:
    """Publish the event store's log to Kafka, in order, resuming where it stopped."""
    from services.relay.relay import Relay
    from shared import kafka_io
    from shared.pathway.application import Journal
    from shared.sqldb import PostgresDatabase

    settings = get_settings()
    _logging()
    kafka_io.ensure_topic(settings)
    kafka_io.ensure_topic(settings, settings.alerts_topic)
    journal = Journal(env=settings.journal_env())
    db = PostgresDatabase(settings.database_url, max_size=2)
    the_relay = Relay(journal, db, kafka_io.producer(settings), settings.topic,
                      settings.alerts_topic, settings.relay_batch_size)
    typer.echo(f"relay: {settings.topic} from position {the_relay.position()}")
    the_relay.run(_stop_on_signals())
    the_relay.producer.close()


@app.command()
def project(name: Annotated[str, typer.Argument(help="Projection to run: caseload")]) -> None:
    """Run one projection as a Kafka consumer group member."""
    from parcours.platform import PROJECTIONS
    from shared import kafka_io
    from shared.sqldb import PostgresDatabase

    if name not in PROJECTIONS:
        raise typer.BadParameter(f"unknown projection {name!r}; known: {', '.join(PROJECTIONS)}")
    settings = get_settings()
    _logging()
    kafka_io.ensure_topic(settings)
    db = PostgresDatabase(settings.database_url, max_size=2)
    projector = kafka_io.KafkaProjector(settings, db, PROJECTIONS[name]())
    typer.echo(f"projection {name}: consuming {settings.topic} as {projector.group_id}")
    projector.run(_stop_on_signals())


@schema_app.command("export")
def schema_export(directory: Path) -> None:
    """Write one JSON Schema per event type and version into DIRECTORY."""
    from shared.events.schema import export

    for path in export(directory):
        typer.echo(path)
