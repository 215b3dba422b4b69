"""From a parsed ADT message to the command it asks of the pathway: which trigger means what,
which of the message's dates is the fact's, the kind of stay, the discharge destination.
Pure: no I/O. A command decides against the pathway's current state whether the fact is new
(a stay typed by the case manager and the same stay from the hospital are one stay)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.hl7.messages import AdtMessage, MessageRejectedError
from shared import events as ev
from shared.events.payloads import AdmissionCancelled, DischargeCancelled, TransferCancelled
from shared.pathway.commands import Meta
from shared.pathway.domain import Pathway

UNDERSTOOD = ("A01", "A02", "A03", "A04", "A08", "A11", "A12", "A13")


@dataclass(frozen=True)
class Sender:
    """A known sending facility: the territory it serves and the establishment's name."""

    key: str
    territory: str
    establishment: str


@dataclass(frozen=True)
class HospitalCommand:
    """What the message asks; ``payload`` is None when it asks nothing Parcours keeps."""

    trigger: str
    payload: ev.Payload | None
    occurred_at: datetime | None
    note: str

    def apply(self, pathway: Pathway, meta: Meta, tolerance: timedelta) -> bool:
        """Runs the command; says whether it recorded a fact (False: nothing new)."""
        match self.payload:
            case ev.Hospitalised() as stay:
                known = pathway.open_stay
                if known and _same(known.establishment, stay.establishment) and \
                        abs(known.admitted_at - stay.admitted_at) <= tolerance:
                    return False  # the case manager typed this stay already
                pathway.hospitalise(stay, meta)
            case ev.StayTransferred() as move:
                known = pathway.open_stay
                if known and known.ward == move.ward and _same(known.establishment,
                                                              move.establishment):
                    return False
                pathway.transfer_stay(move, meta)
            case ev.Discharged() as discharge:
                last = pathway.follow_up.last_discharge
                if pathway.open_stay is None and last and \
                        abs(last.discharged_at - discharge.discharged_at) <= tolerance:
                    return False  # the case manager typed this discharge already
                pathway.discharge(discharge, meta)
            # A cancellation of what Parcours never had (the movement came before the person
            # was followed, or this cancellation came already) changes nothing: not an error
            # the hospital could fix.
            case AdmissionCancelled() as cancelled:
                if pathway.open_stay is None:
                    return False
                pathway.cancel_admission(cancelled, meta)
            case TransferCancelled() as cancelled:
                if pathway.open_stay is None:
                    return False
                pathway.cancel_transfer(cancelled, meta)
            case DischargeCancelled() as cancelled:
                if pathway.open_stay is not None or pathway.follow_up.last_discharge is None:
                    return False
                pathway.cancel_discharge(cancelled, meta)
            case _:
                return False
        return True


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def command_for(message: AdtMessage, sender: Sender) -> HospitalCommand:
    """The command of a message; an unsupported one is a MessageRejectedError (answered AE)."""
    kind, _, trigger = message.header.trigger.partition("^")
    trigger = trigger.split("^")[0]
    if kind != "ADT" or trigger not in UNDERSTOOD:
        raise MessageRejectedError(
            200 if kind != "ADT" else 201,
            f"Message {message.header.trigger or '(MSH-9 vide)'} non pris en charge : "
            f"Parcours comprend ADT {', '.join(UNDERSTOOD)}.", message.header, "AE")
    establishment = sender.establishment or message.facility or message.header.sending_facility
    ward = message.unit or "Unité non précisée"
    event_time = message.occurred_at  # EVN-6; EVN-2 is when it was recorded, not a fact's date
    movement_time = message.movement_at or event_time
    if trigger == "A08" or message.movement_action == "UPDATE":
        return HospitalCommand(trigger, None, None, "Mise à jour reçue : rien à modifier dans "
                                                    "le parcours.")
    if trigger == "A04" and message.patient_class != "E":
        return HospitalCommand(trigger, None, None, "Consultation externe : ce n'est pas une "
                                                    "hospitalisation.")
    if trigger in ("A01", "A04"):
        admitted_at = _required(message.admitted_at or movement_time, "PV1-44", message)
        emergency = trigger == "A04" or message.patient_class == "E" or \
            message.admission_type in ("U", "E")
        return HospitalCommand(trigger, ev.Hospitalised(
            establishment=establishment, ward=ward, admitted_at=admitted_at,
            kind="emergency" if emergency else "planned"), admitted_at, "Hospitalisation")
    if trigger == "A02":
        moved_at = _required(movement_time, "ZBE-2", message)
        return HospitalCommand(trigger, ev.StayTransferred(
            establishment=establishment, ward=ward, transferred_at=moved_at), moved_at,
            "Changement d'unité")
    if trigger == "A03":
        discharged_at = _required(message.discharged_at or movement_time, "PV1-45", message)
        return HospitalCommand(trigger, ev.Discharged(
            discharged_at=discharged_at, destination=destination(message),
            discharge_letter_received=False), discharged_at, "Sortie")
    cancelled_at = _required(event_time or message.movement_at, "EVN-6", message)
    if trigger == "A11":
        admitted_at = _required(message.admitted_at or message.movement_at, "PV1-44", message)
        return HospitalCommand(trigger, AdmissionCancelled(
            establishment=establishment, admitted_at=admitted_at, cancelled_at=cancelled_at),
            cancelled_at, "Annulation de l'admission")
    if trigger == "A12":
        return HospitalCommand(trigger, TransferCancelled(
            establishment=establishment, ward=message.unit or message.prior_unit or ward,
            cancelled_at=cancelled_at), cancelled_at, "Annulation du changement d'unité")
    admitted_at = _required(message.admitted_at, "PV1-44", message)
    return HospitalCommand(trigger, DischargeCancelled(
        establishment=establishment, ward=ward, admitted_at=admitted_at,
        cancelled_at=cancelled_at), cancelled_at, "Annulation de la sortie")


def _required(moment: datetime | None, where: str, message: AdtMessage) -> datetime:
    if moment is None:
        raise MessageRejectedError(101, f"Date du mouvement absente ({where}).",
                                   message.header, "AE")
    return moment


def destination(message: AdtMessage) -> ev.payloads.DischargeDestination:
    """PV1-36 is the PMSI discharge mode (6 mutation, 7 transfer, 8 home, 9 death); PV1-37
    names where the person went, which tells a nursing home or a rehabilitation stay."""
    mode, to = message.discharge_disposition, message.discharged_to.upper()
    if mode == "9":
        return "death"
    if "EHPAD" in to:
        return "ehpad"
    if "SSR" in to or "SMR" in to:
        return "rehabilitation"
    if mode in ("6", "7"):
        return "other_hospital"
    return "home" if mode in ("8", "") else "other_hospital"
