"""Drives the ADT listener over real sockets on 127.0.0.1 with the PAM.fr fixtures of
tests/fixtures/hl7 (templates: ${INS}, ${ADMITTED}, …)."""

import socket
from datetime import datetime
from pathlib import Path
from string import Template
from typing import Any

FIXTURES = Path(__file__).parent.parent / "fixtures" / "hl7"
START, END = b"\x0b", b"\x1c\x0d"
ENCODINGS = {"UNICODE UTF-8": "utf-8", "8859/1": "iso-8859-1"}


def dtm(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%z")


def message(name: str, **values: Any) -> bytes:
    """A fixture filled in; dates may be given as datetimes. PID's traits are left empty
    unless given: a trait absent contradicts nothing, one given must be the person's."""
    filled = {"SENT": "20261101120000+0100", "CONTROL": "MSG-1", "CHARSET": "UNICODE UTF-8",
              "IPP": "IPP-FICTIF-1", "STATUS": "VALI", "CLASS": "I", "UNIT": "Gériatrie",
              "PRIOR_UNIT": "Gériatrie", "VISIT": "VN-1", "MOVEMENT": "MVT-1", "MODE": "8",
              "TO": "", "ADMITTED": "", "MOVED": "", "DISCHARGED": "", "CANCELLED": "",
              "INS": "", "ORIGINAL": "A01", "FAMILY": "", "GIVEN": "", "BIRTH": "",
              "SEX": ""}
    filled.update({k: dtm(v) if isinstance(v, datetime) else str(v)
                   for k, v in values.items()})
    text = Template((FIXTURES / f"{name}.hl7").read_text("utf-8")).substitute(filled)
    return text.replace("\n", "\r").encode(ENCODINGS[filled["CHARSET"]])


class Connection:
    """One MLLP connection."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.socket.sendall(data)

    def send(self, payload: bytes) -> "Ack":
        self.send_raw(START + payload + END)
        return self.ack()

    def ack(self) -> "Ack":
        while END not in self.buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the listener")
            self.buffer += chunk
        frame, _, self.buffer = self.buffer.partition(END)
        assert frame.startswith(START), frame
        return Ack(frame[1:])

    def closed_by_peer(self) -> bool:
        """True when the listener closed the connection (after any pending answer)."""
        try:
            while True:
                chunk = self.socket.recv(65536)
                if not chunk:
                    return True
                self.buffer += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.socket.close()


class Ack:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        charset = "utf-8" if b"8859/1" not in raw else "iso-8859-1"
        self.segments = {s.split("|")[0]: s.split("|")
                         for s in raw.decode(charset).split("\r") if s}

    @property
    def code(self) -> str:
        return self.segments["MSA"][1]

    @property
    def control_id(self) -> str:
        return self.segments["MSA"][2]

    @property
    def error(self) -> str | None:
        err = self.segments.get("ERR")
        return err[3].split("^")[0] if err else None


def send(port: int, payload: bytes) -> Ack:
    connection = Connection(port)
    try:
        return connection.send(payload)
    finally:
        connection.close()
