"""Acknowledgements in original mode: ACK with MSA-1 AA (accepted), AE (application error) or
AR (rejected), MSA-2 the message's control id, and an ERR segment for AE and AR."""

from datetime import datetime
from uuid import uuid4

from services.hl7.messages import CHARSETS, Header

ERROR_LABELS = {
    100: "Segment sequence error", 101: "Required field missing", 102: "Data type error",
    103: "Table value not found", 200: "Unsupported message type",
    201: "Unsupported event code", 203: "Unsupported version id",
    204: "Unknown key identifier", 207: "Application internal error",
}
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def escape(text: str) -> str:
    for plain, escaped in _ESCAPES:
        text = text.replace(plain, escaped)
    return text


def acknowledgement(code: str, header: Header | None, text: str, now: datetime,
                    hl7_error: int | None = None, application_error: str | None = None,
                    locations: tuple[str, ...] = ()) -> bytes:
    """The ACK's bytes, in the character set the message announced (UTF-8 when unknown).
    ``application_error``, Parcours' own stable code, goes to ERR-5 (a local code, ``L``);
    ``locations``, the fields in question (``PID^1^7``), to ERR-2, repeated."""
    charset = header.charset if header and header.charset in CHARSETS else "UNICODE UTF-8"
    trigger = header.trigger.split("^") if header else []
    event = trigger[1] if len(trigger) > 1 else ""
    segments = [
        "|".join(["MSH", "^~\\&", "PARCOURS", "PARCOURS",
                  header.sending_application if header else "",
                  header.sending_facility if header else "",
                  now.strftime("%Y%m%d%H%M%S%z"), "", f"ACK^{event}^ACK", uuid4().hex[:20],
                  "P", "2.5^FRA^2.11", "", "", "", "", "FRA", charset]),
        "|".join(["MSA", code, header.control_id if header else "", escape(text)]),
    ]
    if code != "AA":
        error = hl7_error or 207
        segments.append("|".join(["ERR", "", "~".join(locations),
                                  f"{error}^{ERROR_LABELS.get(error, '')}^HL70357", "E",
                                  f"{application_error}^^L" if application_error else "",
                                  "", "", escape(text)]))
    return "\r".join(segments).encode(CHARSETS[charset]) + b"\r"
