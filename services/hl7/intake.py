"""The intake of one ADT message: a known sender speaking from its own connection, once only,
a followed person of the sender's territory with a qualified identity, then the command on the
pathway; always an ACK back.

Every call to the journal is in the small section at the end, to adapt in one place."""

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.hl7.ack import acknowledgement
from services.hl7.mapping import Applied, HospitalCommand, Sender, command_for
from services.hl7.messages import AdtMessage, Header, MessageRejectedError, parse
from services.hl7.senders import Peer, SenderRefusedError, bindings_of, senders_of
from services.hl7.store import IntakeStore
from shared.domain.commands import Answer, IdempotentRequest, Meta
from shared.domain.errors import ConcurrentChangeError, PathwayError
from shared.domain.pathway import Pathway
from shared.domain.records import Status
from shared.events import Actor
from shared.journal.application import Journal
from shared.journal.idempotency import AlreadyAppliedError
from shared.runtime.failpoints import failpoint
from shared.runtime.settings import Settings

log = logging.getLogger(__name__)
ATTEMPTS = 3


class AdtIntake:
    def __init__(self, journal: Journal, store: IntakeStore, settings: Settings,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.journal, self.store, self.clock = journal, store, clock
        self.senders = senders_of(settings)
        self.bindings = bindings_of(settings)
        self.tolerance = timedelta(hours=settings.hl7_stay_match_hours)

    def may_connect(self, peer: Peer) -> bool:
        """Whether some sender may speak from this peer: others are not worth a frame."""
        return any(b.allows_address(peer.address, peer.tls) for b in self.bindings.values())

    def receive(self, raw: bytes, peer: Peer) -> bytes:
        """The ACK for one MLLP frame's content, received from ``peer``. Never raises."""
        now = self.clock()
        try:
            code, text, header = self._receive(raw, peer)
            return acknowledgement(code, header, text, now)
        except SenderRefusedError as refused:
            log.warning("HL7 message refused (%s): %s from %s", refused.code,
                        refused.header.sender if refused.header else "?", peer.address)
            return acknowledgement("AR", refused.header, refused.message, now,
                                   refused.hl7_code, refused.code)
        except MessageRejectedError as rejected:
            # A message Parcours cannot read or will not take from this sender: AR; one it
            # reads but does not handle (another message type, a rule of the practice): AE.
            return acknowledgement(rejected.ack, rejected.header, rejected.message, now,
                                   rejected.hl7_code, rejected.application_error,
                                   rejected.locations)
        except Exception:
            log.exception("ADT message could not be applied")
            return acknowledgement("AE", None, "Erreur interne de Parcours : renvoyez le "
                                   "message plus tard.", now, 207)

    def _receive(self, raw: bytes, peer: Peer) -> tuple[str, str, Header]:
        message = parse(raw)
        header = message.header
        sender = self.senders.get(header.sender)
        if sender is None:
            raise MessageRejectedError(
                204, f"Émetteur inconnu de Parcours : {header.sender}.", header)
        self.bindings[sender.key].check(peer, header)
        if not header.control_id:
            raise MessageRejectedError(101, "MSH-10 (identifiant du message) absent.", header)
        command = command_for(message, sender)
        key = (sender.key, header.control_id, message.movement_id)
        if self.store.applied(*key):
            return "AA", "Message déjà reçu : rien de plus n'est enregistré.", header
        differed = self.store.vigilance(*key)
        if differed is not None:  # the same answer, and no second incident
            raise identity_mismatch(differed, header)
        pathway = self._followed(message, sender)
        if pathway is None:
            return "AA", "Message reçu.", header  # nothing kept but the count
        pathway_id = pathway.id
        target = None
        # Traits that contradict the file's are an incident whatever the movement: even an
        # update of one Parcours never received goes on to raise it.
        if command.correction is not None and command.correction.movement_id and \
                not command.contradicted(pathway):
            target = self.store.movement(sender.key, command.correction.movement_id,
                                         str(pathway_id))
            if target is None:  # told before the person was followed, or never
                self.store.count_unmatched(sender.key, self.clock().date(), "movement_unknown")
                return "AA", "Mouvement inconnu de Parcours : rien n'est modifié.", header
        try:
            applied = self._apply(pathway_id, command, sender, target, key)
        except AlreadyAppliedError as before:
            # Applied, then the intake stopped before remembering it: remembered now, with
            # the event its movement became, which a correction of it will look for.
            differed = tuple(before.record.answer.body.get("vigilance") or ())
            if differed:
                self._remember_vigilance(key, pathway_id, differed, header)
            told = before.record.answer.body.get("movement_event_id")
            self.store.remember(*key, str(pathway_id), self.clock(),
                                UUID(told) if told else None)
            return "AA", "Message déjà reçu : rien de plus n'est enregistré.", header
        except PathwayError as refused:
            raise MessageRejectedError(207, f"{refused.message} ({refused.code})", header,
                                       "AE") from None
        failpoint("hl7.after_apply")  # in the journal, not yet in the intake's own keys
        if applied.vigilance:
            self._remember_vigilance(key, pathway_id, applied.vigilance, header)
        self.store.remember(*key, str(pathway_id), self.clock(), applied.movement_event_id)
        if applied.recorded:
            return "AA", f"{command.note} enregistrée.", header
        if command.correction is not None:
            return "AA", "Rien à corriger : le parcours a déjà ces valeurs, ou ce mouvement " \
                         "ne compte plus.", header
        return "AA", command.note if command.payload is None else \
            "Rien de nouveau pour le parcours : déjà connu, ou rien à annuler.", header

    def _remember_vigilance(self, key: tuple[str, str, str], pathway_id: UUID,
                            differed: tuple[str, ...], header: Header) -> None:
        self.store.remember_vigilance(*key, str(pathway_id), differed, self.clock())
        log.warning("HL7 identity-vigilance incident from %s (message %s): %s differ",
                    key[0], key[1], ", ".join(differed))
        raise identity_mismatch(differed, header)

    def _followed(self, message: AdtMessage, sender: Sender) -> Pathway | None:
        """The pathway the message is about, if Parcours may use it; otherwise only counted.
        A person of another territory reads like one not followed: the sender learns nothing."""
        day = self.clock().date()
        if not message.ins or not message.identity_qualified:
            self.store.count_unmatched(sender.key, day, "identity_not_qualified")
            return None
        pathway = _active_pathway(self.journal, message.ins, sender.territory)
        if pathway is None:
            self.store.count_unmatched(sender.key, day, "not_followed")
        return pathway

    def _apply(self, pathway_id: UUID, command: HospitalCommand, sender: Sender,
               target: UUID | None, key: tuple[str, str, str]) -> Applied:
        """Applies the command with the message's key recorded in the journal's own
        transaction: the intake's table of keys is written after, and a crash in between
        must not let the hospital's resend apply the movement twice."""
        applied: list[Applied] = []
        meta = Meta(actor=Actor(id=f"hl7:{sender.key}", role="hospital"),
                    occurred_at=command.occurred_at, idempotency=_once(key, applied))
        for attempt in range(ATTEMPTS):
            try:
                return _execute(self.journal, pathway_id, command, meta, self.tolerance,
                                target, applied)
            except ConcurrentChangeError:
                if attempt == ATTEMPTS - 1:
                    raise
        return Applied(False)


IDENTITY_MISMATCH = "hl7.identity_mismatch"
TRAITS = {"family_name": ("le nom de naissance", "PID^1^5"),
          "given_names": ("les prénoms de naissance", "PID^1^5"),
          "birth_date": ("la date de naissance", "PID^1^7"), "sex": ("le sexe", "PID^1^8")}


def identity_mismatch(differed: tuple[str, ...], header: Header) -> MessageRejectedError:
    """AE for a message whose traits contradict the file's: which traits, never the file's
    values (the sender must not learn an identity from a mismatch), ERR-3 ``204`` (the key,
    the INS, does not identify the person the message describes) and ERR-2 the fields."""
    named = [TRAITS[t][0] for t in differed if t in TRAITS]
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} et {named[-1]}"
    locations = tuple(dict.fromkeys(TRAITS[t][1] for t in differed if t in TRAITS))
    return MessageRejectedError(
        204, f"Vigilance identité : pour cette INS, {listed} du message ne correspond"
        f"{'ent' if len(named) > 1 else ''} pas à l'identité du dossier Parcours. Mouvement "
        "non enregistré ; à vérifier par votre cellule d'identitovigilance, puis à renvoyer "
        "sous un nouvel identifiant de message.", header, "AE", IDENTITY_MISMATCH, locations)


def _once(key: tuple[str, str, str], applied: list[Applied]) -> IdempotentRequest:
    """The message's key as the journal's idempotency key; its answer keeps the event the
    movement became. A resend is the same message, whatever its bytes."""
    sender, control_id, movement_id = key
    digest = hashlib.sha256(f"{control_id}\x1f{movement_id}".encode()).hexdigest()

    def answer(_: object) -> Answer:
        told = applied[0].movement_event_id if applied else None
        return Answer(200, {"movement_event_id": str(told) if told else None,
                            "vigilance": list(applied[0].vigilance) if applied else []}, {})
    return IdempotentRequest(scope=f"hl7:{sender}", key=digest, fingerprint=digest,
                             answer=answer)


# -- the journal calls ----------------------------------------------------------------------

def _active_pathway(journal: Journal, value: str, territory: str) -> Pathway | None:
    pathway_id = journal.pathway_of_person(value)
    if pathway_id is None:
        return None
    pathway = journal.pathway(pathway_id)
    if pathway.status is not Status.ACTIVE or pathway.territory != territory:
        return None
    return pathway


def _execute(journal: Journal, pathway_id: UUID, command: HospitalCommand, meta: Meta,
             tolerance: timedelta, target: UUID | None, applied: list[Applied]) -> Applied:
    def movement(pathway: Pathway) -> Applied:
        applied[:] = [command.apply(pathway, meta, tolerance, target)]  # for the key's answer
        return applied[0]
    return journal.record_hospital_movement(pathway_id, movement, meta)
