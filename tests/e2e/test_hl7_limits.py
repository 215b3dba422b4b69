"""No sender holds what the others need: a connection over PARCOURS_HL7_MAX_CONNECTIONS is
closed as soon as it is accepted, and a frame begun and not finished within
PARCOURS_HL7_FRAME_TIMEOUT_S closes its connection, while a quiet one waits for its next frame
as long as PARCOURS_HL7_IDLE_TIMEOUT_S."""

from pathlib import Path

from tests.e2e.hl7_helpers import START, Connection, message
from tests.e2e.hl7_running import served
from tests.integration.notification_helpers import wait_until


def test_a_connection_over_the_cap_is_closed_and_a_freed_slot_serves_again(
        tmp_path: Path) -> None:
    with served(tmp_path, hl7_max_connections=2) as listening:
        held = [Connection(listening.port), Connection(listening.port)]
        try:
            assert [c.send(message("a08", INS="")).code for c in held] == ["AA", "AA"]
            over = Connection(listening.port)
            try:
                assert over.closed_by_peer()  # unanswered, before the socket's 10 s
            finally:
                over.close()
            held.pop().close()
            wait_until(lambda: len(listening.listener.connections) < 2, 10,
                       "the listener to see the connection closed")
            held.append(Connection(listening.port))
            assert held[-1].send(message("a08", INS="", CONTROL="MSG-2")).code == "AA"
        finally:
            for connection in held:
                connection.close()


def test_an_unfinished_frame_is_closed_after_the_frame_timeout(tmp_path: Path) -> None:
    with served(tmp_path, hl7_frame_timeout_s=0.3, hl7_idle_timeout_s=60) as listening:
        quiet, trickling = Connection(listening.port), Connection(listening.port)
        try:
            trickling.send_raw(START + message("a08", INS="")[:40])
            assert trickling.closed_by_peer()  # before the socket's 10 s, the idle's 60 s
            # Opened before it, no frame begun: still served once the frame timeout passed.
            assert quiet.send(message("a08", INS="")).code == "AA"
        finally:
            quiet.close()
            trickling.close()
