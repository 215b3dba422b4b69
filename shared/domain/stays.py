"""Hospital stays in the pathway, typed by the case manager or sent by the hospital's ADT feed
(IHE PAM France): admission, change of unit, discharge, the discharge letter, and the
feed's cancellations and corrections."""

from uuid import UUID

from shared import events as ev
from shared.domain.commands import Meta
from shared.domain.errors import RuleBrokenError
from shared.domain.plausibility import Bound
from shared.domain.records import Stay
from shared.domain.state import PathwayState
from shared.events.payloads import (
    AdmissionCancelled,
    DischargeCancelled,
    MovementCorrected,
    MovementKind,
    TransferCancelled,
)


class HospitalStays(PathwayState):
    def hospitalise(self, stay: ev.Hospitalised, meta: Meta) -> None:
        self._require_active()
        self._dated(stay.admitted_at, meta, self._admission_bound())
        if self.open_stay is not None:
            raise RuleBrokenError(
                "stay.already_open",
                "Une hospitalisation est déjà en cours : enregistrez d'abord la sortie.",
            )
        self._record(stay, meta)

    def transfer_stay(self, transfer: ev.StayTransferred, meta: Meta) -> None:
        stay = self._require_open_stay()
        self._dated(transfer.transferred_at, meta, (stay.admitted_at, "l'entrée à l'hôpital"))
        self._record(transfer, meta)

    def discharge(self, discharge: ev.Discharged, meta: Meta) -> None:
        stay = self._require_open_stay()
        self._dated(discharge.discharged_at, meta, (stay.admitted_at, "l'entrée à l'hôpital"))
        self._record(discharge, meta)

    def receive_discharge_letter(self, letter: ev.DischargeLetterReceived, meta: Meta) -> None:
        self._require_active()
        discharge = self.follow_up.last_discharge
        if discharge is None or discharge.discharge_letter_received or self.letter_received:
            raise RuleBrokenError("stay.no_letter_expected",
                                  "Aucune lettre de liaison n'est attendue pour ce parcours.")
        self._dated(letter.received_on, meta, (discharge.discharged_at, "la sortie"))
        self._record(letter, meta)

    def cancel_admission(self, cancelled: AdmissionCancelled, meta: Meta) -> None:
        """The stay never was: it ends, and the alert it raised resolves as cancelled."""
        self._require_open_stay()
        # R1's key names the stay's admission event (its due date may have been corrected).
        key = f"R1:{self.state.stay_event_id}"
        self._record(cancelled, meta)
        for alert in list(self.alerts.values()):
            if alert.raised.dedup_key == key and alert.state != "resolved":
                self._record(ev.AlertResolved(
                    alert_id=alert.raised.alert_id,
                    resolution="Hospitalisation annulée par l'établissement."), meta)

    def cancel_transfer(self, cancelled: TransferCancelled, meta: Meta) -> None:
        self._require_open_stay()
        self._record(cancelled, meta)

    def cancel_discharge(self, cancelled: DischargeCancelled, meta: Meta) -> None:
        self._require_active()
        if self.open_stay is not None or self.follow_up.last_discharge is None:
            raise RuleBrokenError("stay.no_discharge_to_cancel",
                                  "Aucune sortie d'hospitalisation à annuler.")
        self._record(cancelled, meta)

    def movement_told_by(self, event_id: UUID) -> MovementKind | None:
        """Which movement of the latest stay the event told, if a hospital may still correct
        it: the admission, the change of unit that set the current unit, the discharge.
        Earlier changes of unit and earlier stays no longer shape anything Parcours shows."""
        told, state = str(event_id), self.state
        if self.open_stay is not None:
            if told == state.stay_event_id:
                return "admission"
            return "transfer" if told == state.stay_location_event_id else None
        if self.discharged_stay is not None:
            if told == state.discharge_event_id:
                return "discharge"
            if told == state.discharged_stay_event_id:
                return "admission"
        return None

    def correct_movement(self, correction: MovementCorrected, meta: Meta) -> None:
        """The hospital corrected a movement it told (PAM.fr ZBE-4 UPDATE, ADT A08): a new
        fact; the movement's own event stays as it was stored."""
        self._require_active()
        if self.movement_told_by(correction.movement_event_id) != correction.movement:
            raise RuleBrokenError("stay.nothing_to_correct",
                                  "Aucun mouvement de ce séjour ne correspond à la correction.")
        if correction.at is not None:
            self._dated(correction.at, meta, *self._correction_bounds(correction))
        self._record(correction, meta)

    def _correction_bounds(self, correction: MovementCorrected) -> tuple[Bound, ...]:
        stay = self.open_stay or self.discharged_stay
        assert stay is not None and correction.at is not None
        if correction.movement == "admission":
            discharge = None if self.open_stay else self.follow_up.last_discharge
            if discharge is not None and discharge.discharged_at < correction.at:
                raise RuleBrokenError(
                    "date.out_of_order",
                    "L'entrée corrigée suivrait la sortie de ce séjour : corrigez la date.")
            moved = self.open_stay is not None and \
                self.state.stay_location_event_id != self.state.stay_event_id
            if moved and stay.located_at is not None and stay.located_at < correction.at:
                raise RuleBrokenError(
                    "date.out_of_order",
                    "L'entrée corrigée suivrait le changement d'unité : corrigez la date.")
            return (self._admission_bound(),)
        return ((stay.admitted_at, "l'entrée à l'hôpital"),)

    def _require_open_stay(self) -> Stay:
        self._require_active()
        if self.open_stay is None:
            raise RuleBrokenError(
                "stay.not_open", "Aucune hospitalisation en cours pour cette personne."
            )
        return self.open_stay

    def _when_stay(self, payload: ev.Payload) -> None:
        match payload:
            case ev.Hospitalised():
                self.open_stay = Stay(payload.establishment, payload.ward, payload.admitted_at,
                                      payload.kind, payload.admitted_at)
                self.discharged_stay = None
            case ev.StayTransferred() if self.open_stay:
                self.open_stay.establishment = payload.establishment
                self.open_stay.ward = payload.ward
                self.open_stay.located_at = payload.transferred_at
            case TransferCancelled() if self.open_stay:
                self.open_stay.establishment = payload.establishment
                self.open_stay.ward = payload.ward
                self.open_stay.located_at = None
            case ev.Discharged():
                self.discharged_stay, self.open_stay = self.open_stay, None
                self.follow_up.last_discharge = payload
                self.letter_received = payload.discharge_letter_received
            case ev.DischargeLetterReceived():
                self.letter_received = True
            case AdmissionCancelled():
                self.open_stay = None
            case DischargeCancelled():
                kind = self.discharged_stay.kind if self.discharged_stay else "planned"
                self.open_stay = Stay(payload.establishment, payload.ward, payload.admitted_at,
                                      kind)
                self.discharged_stay, self.follow_up.last_discharge = None, None
            case MovementCorrected():
                self._when_corrected(payload)

    def _when_corrected(self, correction: MovementCorrected) -> None:
        """Called after the follow-up fold, whose event ids a correction does not change."""
        told = str(correction.movement_event_id)
        stay = self.open_stay or self.discharged_stay
        if stay is None:
            return
        if correction.movement == "admission":
            stay.admitted_at = correction.at or stay.admitted_at
            stay.kind = correction.kind or stay.kind
        if self.open_stay is not None and told == self.state.stay_location_event_id:
            stay.establishment = correction.establishment or stay.establishment
            stay.ward = correction.ward or stay.ward
            stay.located_at = correction.at or stay.located_at
        discharge = self.follow_up.last_discharge
        if correction.movement == "discharge" and discharge is not None:
            self.follow_up.last_discharge = discharge.model_copy(update={
                "discharged_at": correction.at or discharge.discharged_at,
                "destination": correction.destination or discharge.destination})
