"""Which errors a process waits out, and how it waits: pure logic, no server."""

import logging
import threading

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from psycopg_pool import PoolTimeout

from shared.api.http import install_error_handlers
from shared.runtime.resilience import Backoff, is_outage, retrying


@pytest.mark.parametrize("error", [
    psycopg.OperationalError("server closed the connection unexpectedly"),
    PoolTimeout("couldn't get a connection after 5.00 sec"),
    OperationalError("terminating connection due to administrator command"),
    KafkaConnectionError("broker down"), KafkaTimeoutError(), ConnectionRefusedError(),
])
def test_a_restart_of_a_server_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize("error", [ValueError("bad"), KeyError("x"), TypeError()])
def test_a_bug_is_not_an_outage(error: Exception) -> None:
    assert not is_outage(error)


def test_an_outage_wrapped_by_the_caller_is_still_one() -> None:
    try:
        try:
            raise psycopg.OperationalError("gone")
        except psycopg.OperationalError as inner:
            raise RuntimeError("while reading offsets") from inner
    except RuntimeError as outer:
        assert is_outage(outer)


def test_waits_grow_to_the_cap() -> None:
    backoff = Backoff("x", logging.getLogger("test"), first_s=0.1, cap_s=1.0)
    stop = threading.Event()
    stop.set()  # wait() returns at once: only the delays are checked
    delays = []
    for _ in range(8):
        backoff.failed(ConnectionError(), stop)
        delays.append(backoff.delay())
    assert delays[:5] == [0.1, 0.2, 0.4, 0.8, 1.0]
    assert max(delays) == 1.0


def test_an_outage_is_logged_once_and_its_end_once(caplog: pytest.LogCaptureFixture) -> None:
    backoff = Backoff("relay", logging.getLogger("test"), first_s=0.0)
    stop = threading.Event()
    with caplog.at_level(logging.WARNING):
        for _ in range(50):
            backoff.failed(ConnectionError("refused"), stop)
        backoff.succeeded()
        backoff.succeeded()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "unavailable" in lines[0] and "back after" in lines[1] and "50 attempts" in lines[1]


def test_retrying_waits_out_an_outage_and_lets_a_bug_through() -> None:
    failures = iter([ConnectionError(), ConnectionError()])

    def work() -> str:
        for failure in failures:
            raise failure
        return "done"

    stop = threading.Event()
    assert retrying(work, Backoff("w", logging.getLogger("t"), first_s=0.0), stop) == "done"
    with pytest.raises(ValueError):
        retrying(lambda: int("x"), Backoff("w", logging.getLogger("t")), stop)
    stop.set()
    assert retrying(work, Backoff("w", logging.getLogger("t")), stop) is None


def test_the_api_answers_503_with_retry_after_during_an_outage() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    def down() -> None:
        raise PoolTimeout("couldn't get a connection after 5.00 sec")

    @app.get("/bug")
    def bug() -> None:
        raise ValueError("a bug")

    client = TestClient(app, raise_server_exceptions=False)
    answer = client.get("/down")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"]["code"] == "service.unavailable"
    assert "indisponible" in answer.json()["error"]["message"]
    assert client.get("/bug").status_code == 500


def test_an_outage_503_logs_one_line_and_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/down")
    def down() -> None:
        raise PoolTimeout("couldn't get a connection after 5.00 sec")

    # Raising server exceptions: the test client fails if Starlette re-raises (and logs) it.
    with caplog.at_level(logging.INFO):
        answer = TestClient(app).get("/down")
    assert answer.status_code == 503
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and lines[0].exc_info is None, lines
    assert "503 service.unavailable" in lines[0].getMessage()
