"""An ADT message, read: the raw bytes of one MLLP frame decoded by MSH-18, parsed with the
``hl7`` package, and the PAM.fr fields Parcours uses picked out. Pure: no I/O.

What cannot be read is a ``MessageRejectedError`` with the HL7 error code (table 0357) to answer."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import hl7

# PID-3 assigning authorities whose identifier is an INS: NIR, NIA, and the test and demo OIDs.
INS_OIDS = ("1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10",
            "1.2.250.1.213.1.4.11")
QUALIFIED = "VALI"
# MSH-18 (HL7 table 0211) values this listener reads; no MSH-18 means ASCII in HL7, and
# PAM.fr senders that leave it out write ISO-8859-1 in practice.
CHARSETS = {"": "iso-8859-1", "ASCII": "ascii", "8859/1": "iso-8859-1",
            "UNICODE UTF-8": "utf-8", "UTF-8": "utf-8"}
ENCODING_CHARACTERS = "^~\\&"
# A date without an offset is French local time: the hospitals sending it are in France.
LOCAL = ZoneInfo("Europe/Paris")
_DTM = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")


class MessageRejectedError(Exception):
    """The message cannot be processed; ``hl7_code`` is from HL7 table 0357. ``ack`` is AR for
    a message Parcours cannot read or take, AE for one it reads but cannot apply."""

    def __init__(self, hl7_code: int, message: str, header: "Header | None" = None,
                 ack: str = "AR", application_error: str | None = None,
                 locations: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.hl7_code, self.message, self.header, self.ack = hl7_code, message, header, ack
        self.application_error, self.locations = application_error, locations
        """Parcours' own stable code (ERR-5), and the fields in question (ERR-2)."""


@dataclass(frozen=True)
class Header:
    """What an acknowledgement needs, read even from a message that is otherwise wrong."""

    sending_application: str
    sending_facility: str
    control_id: str
    trigger: str
    charset: str

    @property
    def sender(self) -> str:
        return f"{self.sending_application}^{self.sending_facility}"


@dataclass(frozen=True)
class Traits:
    """The identity traits of PID, as PAM.fr sends them for the INS: the birth name (the PID-5
    repetition of type ``L``), the birth given names (PID-5.3, else the first one, PID-5.2),
    the birth date (PID-7) and sex (PID-8)."""

    family_name: str = ""
    given_names: str = ""
    birth_date: date | None = None
    sex: str = ""


@dataclass(frozen=True)
class AdtMessage:
    header: Header
    structure: str
    version: str
    recorded_at: datetime | None
    occurred_at: datetime | None
    ins: str | None
    identity_qualified: bool
    patient_class: str
    admission_type: str
    unit: str
    facility: str
    prior_unit: str
    discharge_disposition: str
    discharged_to: str
    admitted_at: datetime | None
    discharged_at: datetime | None
    movement_id: str
    movement_at: datetime | None
    movement_action: str
    original_trigger: str
    traits: Traits = Traits()


def read_header(raw: bytes) -> Header:
    """MSH alone, from the bytes, before the whole message is decoded."""
    start = raw.find(b"MSH")
    if start != 0:
        raise MessageRejectedError(100, "Le message ne commence pas par un segment MSH.")
    if raw[3:8] != b"|" + ENCODING_CHARACTERS.encode():
        raise MessageRejectedError(
            102, "Délimiteurs non standard : MSH-1 doit être « | » et MSH-2 « ^~\\& ».")
    segment = re.split(rb"[\r\n]", raw, maxsplit=1)[0]
    fields = segment.split(b"|")

    def field(n: int) -> str:  # MSH-n is fields[n - 1]: MSH-1 is the separator itself
        value = fields[n - 1] if len(fields) >= n else b""
        return value.decode("ascii", errors="replace").split("^")[0].strip()

    charset = field(18).upper()
    header = Header(field(3), field(4), field(10),
                    (fields[8].decode("ascii", errors="replace") if len(fields) > 8 else ""),
                    charset)
    if charset not in CHARSETS:
        raise MessageRejectedError(
            203, f"Jeu de caractères MSH-18 non pris en charge : {charset}.", header)
    return header


def decode(raw: bytes, header: Header) -> str:
    try:
        return raw.decode(CHARSETS[header.charset])
    except UnicodeDecodeError:
        raise MessageRejectedError(102, f"Le message n'est pas encodé comme MSH-18 l'annonce "
                            f"({header.charset or 'ISO-8859-1'}).", header) from None


def parse(raw: bytes) -> AdtMessage:
    raw = raw.lstrip(b"\r\n\t ")  # some senders start a frame with a line break
    header = read_header(raw)
    text = decode(raw, header).replace("\r\n", "\r").replace("\n", "\r")
    try:
        message = hl7.parse(text)
    except Exception:  # the library raises several kinds on malformed text
        raise MessageRejectedError(100, "Message HL7 illisible.", header) from None

    def get(path: str) -> str:
        try:
            return str(message[path]).strip()
        except (KeyError, IndexError):
            return ""  # an absent segment or field reads as empty, like in HL7

    def when(path: str) -> datetime | None:
        value = get(path)
        try:
            return timestamp(value) if value else None
        except ValueError:
            raise MessageRejectedError(102, f"Date invalide en {path} : {value}.", header) from None

    version = get("MSH.F12.R1.C1")
    if not version.startswith("2."):
        raise MessageRejectedError(
            203, f"Version HL7 non prise en charge : {version or 'absente'}.", header)
    ins, qualified = _ins(message)
    return AdtMessage(
        header=header, structure=get("MSH.F9.R1.C3"), version=version,
        recorded_at=when("EVN.F2.R1.C1"), occurred_at=when("EVN.F6.R1.C1"),
        ins=ins, identity_qualified=qualified,
        patient_class=get("PV1.F2.R1.C1"), admission_type=get("PV1.F4.R1.C1"),
        unit=get("PV1.F3.R1.C1"), facility=get("PV1.F3.R1.C4"),
        prior_unit=get("PV1.F6.R1.C1"),
        discharge_disposition=get("PV1.F36.R1.C1"), discharged_to=get("PV1.F37.R1.C1"),
        admitted_at=when("PV1.F44.R1.C1"), discharged_at=when("PV1.F45.R1.C1"),
        movement_id=get("ZBE.F1.R1.C1"), movement_at=when("ZBE.F2.R1.C1"),
        movement_action=get("ZBE.F4.R1.C1").upper(),
        original_trigger=get("ZBE.F6.R1.C1").upper(),
        traits=_traits(message),
    )


def _ins(message: hl7.Message) -> tuple[str | None, bool]:
    """The INS among PID-3's identifiers, and whether PID-32 says the identity is qualified."""
    try:
        pid = message.segment("PID")
    except KeyError:
        return None, False
    ins = None
    identifiers = str(pid[3]).split("~") if len(pid) > 3 else []
    for identifier in identifiers:
        parts = identifier.split("^")
        authority = parts[3].split("&") if len(parts) > 3 else []
        if len(authority) > 1 and authority[1].strip() in INS_OIDS:
            ins = parts[0].strip()
    statuses = str(pid[32]).split("~") if len(pid) > 32 else []
    return ins, QUALIFIED in (s.strip().upper() for s in statuses)


def _traits(message: hl7.Message) -> Traits:
    try:
        pid = message.segment("PID")
    except KeyError:
        return Traits()
    names = [n.split("^") for n in str(pid[5]).split("~")] if len(pid) > 5 else []
    birth = [n for n in names if len(n) > 6 and n[6].strip() == "L"] or names or [[]]
    name = [*birth[0], "", "", ""]
    born = str(pid[7]).strip()[:8] if len(pid) > 7 else ""
    try:
        birth_date = date(int(born[:4]), int(born[4:6]), int(born[6:8])) if born else None
    except ValueError:
        birth_date = None  # an unreadable birth date agrees with nothing
    return Traits(family_name=name[0].strip(), given_names=(name[2] or name[1]).strip(),
                  birth_date=birth_date,
                  sex=str(pid[8]).strip().upper() if len(pid) > 8 else "")


def timestamp(value: str) -> datetime:
    """An HL7 DTM: YYYYMMDD[HH[MM[SS[.S]]]][+/-ZZZZ]; French local time without an offset."""
    match = _DTM.match(value)
    if not match:
        raise ValueError(value)
    year, month, day, hour, minute, second, offset = match.groups()
    zone: tzinfo = LOCAL
    if offset is not None:
        sign = 1 if offset[0] == "+" else -1
        zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                    int(second or 0), tzinfo=zone)
