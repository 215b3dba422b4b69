"""Starting a process of the distributed mode (relay, projections, notifier): wait for
PostgreSQL and Kafka while they are away, but stop at once, saying what to fix, when a setting
can never work.

A server that is down, restarting or recovering is waited for with the same capped backoff as
the running loops (``shared.runtime.resilience``). A wrong address is not an outage: an unknown
database, role or password, a malformed URL or bootstrap list would be retried forever and
fill the log; the process exits instead, with the setting to correct."""

import logging
import threading

import psycopg
from kafka import KafkaAdminClient
from kafka.errors import KafkaConfigurationError

from shared.runtime.resilience import Backoff, is_outage
from shared.runtime.settings import Settings

log = logging.getLogger(__name__)

_DATABASE_MISTAKES = (
    # (what libpq says, what to fix). libpq gives no SQLSTATE for a failed connection.
    ("does not exist", "the database or the role named in the URL does not exist"),
    ("password authentication failed", "the password in the URL is refused"),
    ("no password supplied", "the server wants a password and the URL has none"),
    ("no pg_hba.conf entry", "the server does not let this user in from here (pg_hba.conf)"),
    ("authentication failed", "the server refuses this user's authentication"),
    ("invalid integer value", "the URL's port is not a number"),
    ("invalid connection option", "the URL has an unknown parameter"),
    ("missing \"=\" after", "the URL is not a URL (postgresql://user@host:port/database)"),
    ("invalid URI", "the URL is malformed"),
    ("invalid sslmode", "the URL's sslmode is not one libpq knows"),
)
_TRANSIENT = ("starting up", "shutting down", "in recovery", "too many clients")


class MisconfigurationError(Exception):
    """A setting that no retry can fix."""


def database_mistake(error: BaseException, settings: Settings) -> str | None:
    """What is wrong with PARCOURS_DATABASE_URL, if the error says a setting is wrong rather
    than that the server is away."""
    text = str(error)
    if not isinstance(error, psycopg.Error) or any(t in text for t in _TRANSIENT):
        return None
    for fragment, advice in _DATABASE_MISTAKES:
        if fragment in text:
            return (f"PARCOURS_DATABASE_URL: {advice} ({_first_line(text)}); correct the "
                    "setting and start the process again")
    return None


def kafka_mistake(error: BaseException) -> str | None:
    if isinstance(error, KafkaConfigurationError | ValueError):
        return (f"PARCOURS_KAFKA_BOOTSTRAP: {_first_line(str(error))} (expected host:port, "
                "comma-separated); correct the setting and start the process again")
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else "no detail"


def _database_once(settings: Settings) -> None:
    timeout = max(2, round(settings.db_wait_s))
    try:
        psycopg.connect(settings.database_url, connect_timeout=timeout).close()
    except psycopg.Error as error:
        if (mistake := database_mistake(error, settings)) is not None:
            raise MisconfigurationError(mistake) from error
        raise


def _kafka_once(settings: Settings) -> None:
    try:
        KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="parcours-start",
                         request_timeout_ms=int(settings.db_wait_s * 1000)).close()
    except Exception as error:
        if (mistake := kafka_mistake(error)) is not None:
            raise MisconfigurationError(mistake) from error
        raise


def wait_for_services(settings: Settings, stop: threading.Event, who: str,
                      kafka: bool = True) -> bool:
    """Returns once PostgreSQL (and Kafka) answer; False if stopped first. A setting that can
    never work ends the process with a message that names it (exit status 1)."""
    checks = [("PostgreSQL", _database_once)] + ([("Kafka", _kafka_once)] if kafka else [])
    for name, check in checks:
        backoff = Backoff(f"{who} start-up: {name}", log)
        while not stop.is_set():
            try:
                check(settings)
            except MisconfigurationError as error:
                raise SystemExit(f"{who}: {error}") from None
            except Exception as error:
                if not is_outage(error) and not isinstance(error, psycopg.Error):
                    raise
                backoff.failed(error, stop)
                continue
            backoff.succeeded()
            break
    return not stop.is_set()
