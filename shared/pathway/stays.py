"""Hospital stays in the pathway, typed by the case manager or sent by the hospital's ADT feed
(IHE PAM France): admission, change of unit, discharge, the discharge letter, and the
feed's cancellations."""

from shared import events as ev
from shared.events.payloads import AdmissionCancelled, DischargeCancelled, TransferCancelled
from shared.pathway.commands import Meta
from shared.pathway.errors import RuleBrokenError
from shared.pathway.records import Stay
from shared.pathway.state import PathwayState


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
        stay = self._require_open_stay()
        self._record(cancelled, meta)
        for alert in list(self.alerts.values()):
            # R1 falls due at the admission itself: that tells this stay's alert apart.
            if alert.raised.rule == "R1" and alert.state != "resolved" \
                    and alert.raised.due_at == stay.admitted_at:
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
                self.open_stay = Stay(payload.establishment, payload.ward, payload.admitted_at)
            case ev.StayTransferred() | TransferCancelled() if self.open_stay:
                self.open_stay.establishment = payload.establishment
                self.open_stay.ward = payload.ward
            case ev.Discharged():
                self.open_stay, self.follow_up.last_discharge = None, payload
                self.letter_received = payload.discharge_letter_received
            case ev.DischargeLetterReceived():
                self.letter_received = True
            case AdmissionCancelled():
                self.open_stay = None
            case DischargeCancelled():
                self.open_stay = Stay(payload.establishment, payload.ward, payload.admitted_at)
                self.follow_up.last_discharge = None
