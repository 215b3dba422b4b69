"""From a parsed ADT message to the command it asks of the pathway: which trigger means what,
which of the message's dates is the fact's, the kind of stay, the discharge destination.
Pure: no I/O. A command decides against the pathway's current state whether the fact is new
(a stay typed by the case manager and the same stay from the hospital are one stay)."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from services.hl7.corrections import Correction, same
from services.hl7.messages import AdtMessage, MessageRejectedError, Traits
from shared import events as ev
from shared.domain import requests as rq
from shared.domain.commands import Meta
from shared.domain.pathway import Pathway
from shared.events.payloads import (
    AdmissionCancelled,
    DischargeCancelled,
    IdentityQualified,
    IdentityVigilanceRaised,
    TransferCancelled,
)

# Z99: PAM's update of a movement (ZBE-4 UPDATE, ZBE-6 the movement's own trigger).
UNDERSTOOD = ("A01", "A02", "A03", "A04", "A08", "A11", "A12", "A13", "Z99")


@dataclass(frozen=True)
class Sender:
    """A known sending facility: the territory it serves and the establishment's name."""

    key: str
    territory: str
    establishment: str


@dataclass(frozen=True)
class Applied:
    """What a command did: whether it recorded a fact, and the event that tells the movement
    the message inserted (new, or the same stay typed already), which a later ZBE-4 UPDATE of
    the same ZBE-1 corrects."""

    recorded: bool
    movement_event_id: UUID | None = None
    identity_qualified: bool = False
    vigilance: tuple[str, ...] = ()
    """The traits that contradicted the file's: the movement was not applied."""


@dataclass(frozen=True)
class Origin:
    """Where a message comes from, as an identity-vigilance incident names it."""

    sender: str
    establishment: str
    control_id: str
    trigger: str


@dataclass(frozen=True)
class HospitalCommand:
    """What the message asks; ``payload`` is None when it asks nothing Parcours keeps, and
    ``correction`` is set for a ZBE-4 UPDATE or an A08."""

    trigger: str
    payload: ev.Payload | None
    occurred_at: datetime | None
    note: str
    correction: Correction | None = None
    qualified_identity: tuple[str, Traits] | None = None
    """The sender and the traits of a qualified identity (PID-32 VALI) the message carries."""
    traits: Traits = field(default_factory=Traits)
    origin: Origin | None = None

    def contradicted(self, pathway: Pathway) -> list[ev.payloads.IdentityTrait]:
        """The message's traits that contradict the person's: none for traits not given."""
        t = self.traits
        return pathway.traits_contradicted(t.family_name, t.given_names, t.birth_date, t.sex)

    def apply(self, pathway: Pathway, meta: Meta, tolerance: timedelta,
              target: UUID | None = None) -> Applied:
        """Runs the command; ``target`` is the event a corrected movement became. A message
        whose traits contradict the file's may be about another person who was given this
        INS by mistake: nothing of it is applied, an identity-vigilance incident is."""
        differ = self.contradicted(pathway)
        if differ:
            origin = self.origin or Origin("?", "?", "?", self.trigger)
            pathway.raise_identity_vigilance(IdentityVigilanceRaised(
                vigilance_id=uuid4(), sender=origin.sender,
                establishment=origin.establishment, control_id=origin.control_id,
                trigger=origin.trigger, differing_traits=differ),
                replace(meta, occurred_at=None))
            return Applied(False, vigilance=tuple(differ))
        applied = self._movement(pathway, meta, tolerance, target)
        if self._qualify(pathway, replace(meta, occurred_at=None)):
            return replace(applied, identity_qualified=True)
        return applied

    def _qualify(self, pathway: Pathway, meta: Meta) -> bool:
        """The hospital's qualified identity is the person's, every trait agreeing: Parcours's
        identity is qualified from now on. Traits that differ change nothing here: the
        person's identity is the coordinator's to correct."""
        if self.qualified_identity is None or pathway.identity_qualified_by is not None:
            return False
        sender, traits = self.qualified_identity
        if not pathway.identity_agrees(traits.family_name, traits.given_names,
                                       traits.birth_date, traits.sex):
            return False
        pathway.qualify_identity(IdentityQualified(qualified_by=sender), meta)
        return True

    def _movement(self, pathway: Pathway, meta: Meta, tolerance: timedelta,
                  target: UUID | None) -> Applied:
        if self.correction is not None:
            facts = self.correction.facts(pathway, target)
            for fact in facts:
                pathway.correct_movement(fact, meta)
            return Applied(bool(facts))
        recorded = self._insert(pathway, meta, tolerance)
        state = pathway.state
        match self.payload:
            case ev.Hospitalised():
                told = state.stay_event_id
            case ev.StayTransferred():  # one not recorded is no change of unit to correct
                told = state.stay_location_event_id if recorded else None
            case ev.Discharged():
                told = state.discharge_event_id
            case _:
                told = None
        return Applied(recorded, UUID(told) if told else None)

    def _insert(self, pathway: Pathway, meta: Meta, tolerance: timedelta) -> bool:
        match self.payload:
            case ev.Hospitalised() as stay:
                known = pathway.open_stay
                if known and same(known.establishment, stay.establishment) and \
                        abs(known.admitted_at - stay.admitted_at) <= tolerance:
                    return False  # the case manager typed this stay already
                pathway.hospitalise(stay, meta)
            case ev.StayTransferred() as move:
                known = pathway.open_stay
                if known and known.ward == move.ward and same(known.establishment,
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


def command_for(message: AdtMessage, sender: Sender) -> HospitalCommand:
    """The command of a message; an unsupported one is a MessageRejectedError (answered AE)."""
    command = replace(_command_for(message, sender), traits=message.traits, origin=Origin(
        sender.key, sender.establishment or message.facility or message.header.sending_facility,
        message.header.control_id, command_trigger(message)))
    if not message.identity_qualified:
        return command
    return replace(command, qualified_identity=(sender.key, message.traits))


def command_trigger(message: AdtMessage) -> str:
    """MSH-9.2, the trigger event (``A03``)."""
    return message.header.trigger.partition("^")[2].split("^")[0]


def _command_for(message: AdtMessage, sender: Sender) -> HospitalCommand:
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
    if trigger in ("A08", "Z99") or message.movement_action == "UPDATE":
        update = trigger == "Z99" or message.movement_action == "UPDATE"
        if update and not message.movement_id:
            raise MessageRejectedError(101, "Mise à jour d'un mouvement sans son identifiant "
                                       "(ZBE-1).", message.header, "AE")
        return HospitalCommand(trigger, None, None, "Correction", Correction(
            movement_id=message.movement_id if update else None, establishment=establishment,
            ward=message.unit or None,
            admitted_at=message.admitted_at or (movement_time if update else None),
            moved_at=movement_time, discharged_at=message.discharged_at or (
                movement_time if update else None),
            kind=_kind(message, (message.original_trigger or trigger) if update else trigger),
            destination=destination(message) if (message.discharge_disposition or
                                                 message.discharged_to) else None))
    if trigger == "A04" and message.patient_class != "E":
        return HospitalCommand(trigger, None, None, "Consultation externe : ce n'est pas une "
                                                    "hospitalisation.")
    if trigger in ("A01", "A04"):
        admitted_at = _required(message.admitted_at or movement_time, "PV1-44", message)
        return HospitalCommand(trigger, rq.Hospitalisation(
            establishment=establishment, ward=ward, admitted_at=admitted_at,
            kind=_kind(message, trigger) or "planned").payload(), admitted_at,
            "Hospitalisation")
    if trigger == "A02":
        moved_at = _required(movement_time, "ZBE-2", message)
        return HospitalCommand(trigger, rq.StayTransfer(
            establishment=establishment, ward=ward, transferred_at=moved_at).payload(),
            moved_at, "Changement d'unité")
    if trigger == "A03":
        discharged_at = _required(message.discharged_at or movement_time, "PV1-45", message)
        return HospitalCommand(trigger, rq.Discharge(
            discharged_at=discharged_at, destination=destination(message),
            discharge_letter_received=False).payload(), discharged_at, "Sortie")
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


def _kind(message: AdtMessage, trigger: str) -> ev.payloads.StayKind | None:
    """Emergency (A04, PV1-2 ``E``, PV1-4 ``U``/``E``) or planned (another PV1-4); None when
    the message does not say how the stay began (PV1-2 ``I`` is the patient's class now: an
    emergency admitted to a unit is ``I`` too)."""
    if trigger == "A04" or message.patient_class == "E" or message.admission_type in ("U", "E"):
        return "emergency"
    return "planned" if message.admission_type else None


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
