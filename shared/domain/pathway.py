"""The Pathway aggregate: the rules of the practice over one person's stream of events.

A stream holds successive episodes: referral → decision → (admitted → … → closed). A new
referral after a refusal or a closure opens the next episode in the same stream.
No I/O here; rules that depend on dates use the facts' own dates, not when they were typed,
and the moment of writing comes from the command's ``Meta``.

Here: intake, the case file and how each event changes the state. The state and the shared
guards are in ``state.py``, hospital stays in ``stays.py``, alerts in ``alerting.py``.
(A little over 300 lines: what each event does to the state reads in one ``when``.)"""

from dataclasses import replace as dataclass_replace
from datetime import date
from uuid import UUID, uuid4

from shared import events as ev
from shared.domain.alerting import ALERT_PAYLOADS, AlertLifecycle
from shared.domain.commands import Meta
from shared.domain.dates import local_day
from shared.domain.errors import RuleBrokenError
from shared.domain.events import PathwayEvent, PathwayOpened, event_fields
from shared.domain.followup import begin, evolve
from shared.domain.plausibility import comparable, require_not_in_future
from shared.domain.records import (
    ENDED,
    IDENTITY_TRAITS,
    Episode,
    FollowUp,
    Membership,
    ReceivedValidation,
    Status,
    Vigilance,
)
from shared.domain.repeats import REPEAT_PAYLOADS, RepeatReferrals
from shared.domain.stays import HospitalStays
from shared.events.values import Person

VIGILANCE_PAYLOADS = (ev.IdentityVigilanceRaised, ev.IdentityVigilanceResolved)
"""Not facts of the person's follow-up: they do not date the episode's last fact."""


class Pathway(HospitalStays, AlertLifecycle, RepeatReferrals):
    # -- intake -----------------------------------------------------------------------------

    @classmethod
    def open(cls, referral: ev.Referred, meta: Meta) -> "Pathway":
        require_not_in_future(referral.referred_on, meta)
        return cls._create(PathwayOpened, id=uuid4(), **event_fields(referral, meta))

    def refer(self, referral: ev.Referred, meta: Meta) -> None:
        if self.status not in ENDED:
            raise RuleBrokenError(
                "pathway.already_open",
                "Cette personne a déjà un parcours en cours : une nouvelle orientation n'est "
                "possible qu'après la clôture ou le refus.",
                pathway_id=str(self.id),
            )
        self._require_same_identity(referral.person)
        ended_on = self.episodes[-1].ended_on
        self._dated(referral.referred_on, meta, (ended_on, "la fin de l'épisode précédent"))
        self._record(referral, meta)

    def receive_referral(self, referral: ev.Referred, meta: Meta) -> bool:
        """A referring professional's referral for a person this stream follows or followed,
        answered to its sender as any other (see ``repeats.py``): the next episode when the
        last one ended before the referral's date and the traits are the file's; otherwise a
        repeat referral for the coordination. Returns whether it opened an episode."""
        require_not_in_future(referral.referred_on, meta)
        differing = self.differing_traits(referral.person)
        ended_on = self.episodes[-1].ended_on
        if not differing and self.status in ENDED and ended_on is not None \
                and referral.referred_on >= ended_on:
            self.refer(referral, meta)
            return True
        self._receive_again(referral, differing, meta)
        return False

    def share_episodes(self, shared: ev.EpisodesShared, meta: Meta) -> None:
        """The origin territory's coordinator shares its episodes with the territory the
        person moves to, with the person's consent."""
        if not any(e.territory == shared.from_territory for e in self.episodes):
            raise RuleBrokenError("sharing.no_episode",
                                  "Ce territoire n'a suivi aucun épisode de cette personne.")
        if shared.with_territory == shared.from_territory:
            raise RuleBrokenError("sharing.same_territory",
                                  "Les épisodes appartiennent déjà à ce territoire.")
        self._dated(shared.consent_given_on, meta)
        self._record(shared, meta)

    def correct_identity(self, correction: ev.IdentityCorrected, meta: Meta) -> None:
        self._dated(correction.birth_date, meta)
        self._record(correction, meta)

    def identity_agrees(self, family_name: str, given_names: str, birth_date: date | None,
                        sex: str) -> bool:
        """Whether these traits are the person's, as people read them (case, accents and
        spacing aside); a trait missing is no agreement."""
        person = self.person
        return person is not None and birth_date == person.birth_date and \
            sex in ("F", "M") and sex == person.sex and all(
                comparable(given) == comparable(known) for given, known in (
                    (family_name, person.family_name), (given_names, person.given_names)))

    def traits_contradicted(self, family_name: str, given_names: str,
                            birth_date: date | None, sex: str) -> list[ev.payloads.IdentityTrait]:
        """The traits given that contradict the person's, compared as ``identity_agrees``
        does; a trait not given contradicts nothing, and one given name that is the person's
        first (a sender giving PID-5.2 alone) is no contradiction of their list."""
        person = self.person
        if person is None:
            return []
        differ: list[ev.payloads.IdentityTrait] = []
        if family_name and comparable(family_name) != comparable(person.family_name):
            differ.append("family_name")
        given, known = comparable(given_names), comparable(person.given_names)
        if given and given != known and given != known.split(" ")[0]:
            differ.append("given_names")
        if birth_date is not None and birth_date != person.birth_date:
            differ.append("birth_date")
        if sex in ("F", "M") and person.sex in ("F", "M") and sex != person.sex:
            differ.append("sex")
        return differ

    def raise_identity_vigilance(self, raised: ev.IdentityVigilanceRaised,
                                 meta: Meta) -> None:
        """A hospital's message contradicted the person's identity (the caller compared the
        traits with ``traits_contradicted``): someone must check it with the hospital."""
        self._record(raised, meta)

    def resolve_identity_vigilance(self, vigilance_id: UUID, comment: str,
                                   meta: Meta) -> None:
        """The incident was checked with the hospital's identity-vigilance cell."""
        known = self.vigilance.get(vigilance_id)
        if known is None:
            raise RuleBrokenError("vigilance.unknown",
                                  "Signalement de vigilance identité inconnu pour ce dossier.")
        if known.resolved_by is not None:
            raise RuleBrokenError("vigilance.already_resolved",
                                  "Ce signalement de vigilance identité est déjà résolu.")
        self._record(ev.IdentityVigilanceResolved(
            vigilance_id=vigilance_id, resolved_by=meta.actor.id, comment=comment), meta)

    def qualify_identity(self, qualified: ev.IdentityQualified, meta: Meta) -> None:
        """A hospital's qualified identity agreed with the person's traits (the caller checked
        them with ``identity_agrees``)."""
        self._require_not_ended()
        if self.identity_qualified_by is not None:
            raise RuleBrokenError("identity.already_qualified",
                                  "L'identité de cette personne est déjà qualifiée.")
        self._record(qualified, meta)

    def admit(self, decision: ev.Admitted, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._dated(decision.decided_on, meta, self._referral_bound())
        not_met = self.episodes[-1].criteria_not_met
        if not_met and not decision.criteria_override:
            raise RuleBrokenError(
                "criteria.not_met",
                "L'orientation ne remplit pas tous les critères nationaux : une admission "
                "malgré cela demande la justification de la commission (criteria_override).",
                criteria_not_met=list(not_met),
            )
        self._record(decision, meta)

    def refuse(self, decision: ev.AdmissionRefused, meta: Meta) -> None:
        self._require_awaiting_decision()
        self._dated(decision.decided_on, meta, self._referral_bound())
        self._record(decision, meta)

    def assign(self, assignment: ev.CaseManagerAssigned, meta: Meta) -> None:
        self._require_active()
        if assignment.case_manager_id == self.case_manager_id:
            raise RuleBrokenError(
                "assignment.unchanged", "Ce gestionnaire de cas suit déjà cette personne."
            )
        self._record(assignment, meta)

    def wait_for_place(self, waiting: ev.Waitlisted, meta: Meta) -> None:
        self._require_active()
        self._record(waiting, meta)

    # -- case file --------------------------------------------------------------------------

    def evaluate(self, evaluation: ev.Evaluated, meta: Meta) -> None:
        self._require_active()
        self._dated(evaluation.evaluated_on, meta, self._admission_bound())
        self._record(evaluation, meta)

    def revise_plan(self, plan: ev.PlanRevised, meta: Meta) -> None:
        self._require_active()
        if plan.revised_on is not None:
            self._dated(plan.revised_on, meta, self._admission_bound())
        if plan.revision != self.plan_revision + 1:
            raise RuleBrokenError(
                "plan.revision_out_of_sequence",
                f"La révision attendue du PSI est la n° {self.plan_revision + 1}.",
                expected_revision=self.plan_revision + 1,
            )
        self._record(plan, meta)

    def validate_plan(self, revision: int, validated_on: date, meta: Meta,
                      received: ReceivedValidation | None = None) -> None:
        """The GP validates, signed in themself; or the case manager records a validation
        received from the GP, with its means and the day it arrived."""
        self._require_active()
        if revision not in self.follow_up.plans:
            raise RuleBrokenError("plan.unknown_revision",
                                  f"Le PSI n'a pas de révision n° {revision}.")
        if revision in self.follow_up.validations:
            raise RuleBrokenError("plan.already_validated",
                                  f"La révision n° {revision} du PSI est déjà validée.")
        revised_on = self.follow_up.plan_dates.get(revision)
        self._dated(validated_on, meta, (revised_on, "la révision du PSI"))
        gp = self.attending_gp(validated_on)
        if gp is None:
            raise RuleBrokenError(
                "plan.no_attending_gp",
                "Le PSI est validé par le médecin traitant : ajoutez-le d'abord au cercle de "
                "soins.",
            )
        if received is None and meta.actor.id != gp.member.member_id:
            raise RuleBrokenError(
                "plan.validation_means_required",
                "Seul le médecin traitant valide lui-même le PSI. Si sa validation vous est "
                "parvenue, enregistrez-la comme reçue en précisant le moyen (courrier, "
                "messagerie sécurisée, téléphone) et la date de réception.",
            )
        if received is not None:
            self._dated(received.received_on, meta, (validated_on, "la date de validation"))
        self._record(ev.PlanValidated(
            revision=revision, validated_by=gp.member.name, validated_on=validated_on,
            validator_id=gp.member.member_id,
            means=received.means if received else "signed_in",
            received_on=received.received_on if received else None,
            recorded_by=meta.actor.id if received else None,
        ), meta)

    def join(self, joined: ev.MemberJoined, meta: Meta) -> None:
        self._require_not_ended()
        self._dated(joined.joined_on, meta, self._referral_bound())
        # A membership runs until its departure: a new one may not overlap any still running
        # on or after the day it starts.
        overlapping = [m for m in self.care_circle
                       if m.left_on is None or m.left_on > joined.joined_on]
        if any(m.member.member_id == joined.member.member_id for m in overlapping):
            raise RuleBrokenError("care_circle.already_member",
                                  "Ce professionnel fait déjà partie du cercle de soins.")
        if joined.member.role == "attending_gp" and any(
            m.member.role == "attending_gp" for m in overlapping
        ):
            raise RuleBrokenError(
                "care_circle.attending_gp_present",
                "Le cercle de soins a déjà un médecin traitant : enregistrez d'abord son départ.",
            )
        self._record(joined, meta)

    def leave(self, left: ev.MemberLeft, meta: Meta) -> None:
        self._require_not_ended()
        current = [m for m in self.care_circle
                   if m.member.member_id == left.member_id and m.left_on is None]
        if not current:
            raise RuleBrokenError("care_circle.not_member",
                                  "Ce professionnel ne fait pas partie du cercle de soins.")
        self._dated(left.left_on, meta, (current[0].joined_on, "son arrivée dans le cercle"))
        self._record(left, meta)

    def note(self, note: ev.FollowUpNoted, meta: Meta) -> None:
        self._require_active()
        self._dated(note.contact_on, meta, self._admission_bound())
        self._record(note, meta)

    def report_dysfunction(self, report: ev.DysfunctionReported, meta: Meta) -> None:
        self._require_active()
        if report.reported_on is not None:
            self._dated(report.reported_on, meta, self._admission_bound())
        self._record(report, meta)

    def close(self, closure: ev.Closed, meta: Meta) -> None:
        self._require_active()
        last = self.episodes[-1].last_fact_on
        self._dated(closure.closed_on, meta, (last, "le dernier fait enregistré de l'épisode"))
        self._record(closure, meta)

    # -- rules ------------------------------------------------------------------------------

    def _require_same_identity(self, person: Person) -> None:
        if self.person is None:
            return
        known = self.person
        differ = [trait for trait in IDENTITY_TRAITS
                  if comparable(getattr(person, trait)) != comparable(getattr(known, trait))]
        if differ:
            raise RuleBrokenError(
                "identity.mismatch",
                "Cette INS est déjà connue avec une autre identité : vérifiez les traits "
                "d'identité, ou demandez au coordinateur de corriger l'identité enregistrée.",
                pathway_id=str(self.id), differing_traits=differ,
            )

    # -- state changes ----------------------------------------------------------------------

    def when(self, event: PathwayEvent) -> None:
        payload = event.data
        if isinstance(payload, ev.Referred):
            self._begin_episode(payload, event.originator_version)
        else:
            evolve(self.state, payload, event.event_id, event.occurred_at, event.actor.id)
        if not isinstance(payload, ALERT_PAYLOADS + VIGILANCE_PAYLOADS + REPEAT_PAYLOADS):
            self.last_fact_event_id = event.event_id
            fact = payload.fact_date()
            if fact is not None:
                day = local_day(fact)
                last = self.episodes[-1].last_fact_on
                self.episodes[-1].last_fact_on = max(last, day) if last else day
        self.episodes[-1].last_version = event.originator_version
        match payload:
            case ev.EpisodesShared():
                for episode in self.episodes:
                    if episode.territory == payload.from_territory:
                        episode.shared_with = episode.shared_with | {payload.with_territory}
            case ev.IdentityCorrected() if self.person is not None:
                self.person = self.person.model_copy(update=payload.model_dump(
                    include={"family_name", "given_names", "birth_date", "sex"}))
                self.identity_qualified_by = None
            case ev.IdentityQualified():
                self.identity_qualified_by = payload.qualified_by
            case ev.IdentityVigilanceRaised():  # a new dict: copies share the old one
                self.vigilance = {**self.vigilance, payload.vigilance_id: Vigilance(
                    payload, event.occurred_at)}
            case ev.IdentityVigilanceResolved():
                self.vigilance = {**self.vigilance, payload.vigilance_id: dataclass_replace(
                    self.vigilance[payload.vigilance_id], resolved_by=payload.resolved_by,
                    resolved_at=event.occurred_at)}
            case ev.Admitted():
                self.status, self.admitted_on = Status.ACTIVE, payload.decided_on
                self._decide("admitted", payload.decided_on)
                self.episodes[-1].criteria_override = payload.criteria_override
            case ev.AdmissionRefused():
                self.status = Status.REFUSED
                self._decide("refused", payload.decided_on)
            case ev.CaseManagerAssigned():
                self.case_manager_id, self.waiting_rank = payload.case_manager_id, None
            case ev.Waitlisted():
                self.waiting_rank = payload.rank
            case ev.Evaluated():
                known = self.follow_up.last_evaluation
                if known is None or payload.evaluated_on >= known.evaluated_on:
                    self.follow_up.last_evaluation = payload
            case ev.PlanRevised():
                self.follow_up.plans[payload.revision] = payload
                self.follow_up.plan_dates[payload.revision] = local_day(event.occurred_at)
            case ev.PlanValidated():
                self.follow_up.validations[payload.revision] = payload
            case ev.MemberJoined():
                self.care_circle.append(Membership(payload.member, payload.joined_on))
            case ev.MemberLeft():
                for membership in self.care_circle:
                    if membership.member.member_id == payload.member_id and not membership.left_on:
                        membership.left_on = payload.left_on
            case ev.ReferralReceivedAgain() | ev.RepeatReferralResolved():
                self._when_repeat(payload, event.occurred_at)
            case ev.AlertRaised() | ev.AlertAcknowledged() | ev.AlertResolved():
                self._when_alert(payload, event.actor.id)
            case ev.Closed():
                self.status, self.open_stay, self.discharged_stay = Status.CLOSED, None, None
                self.episodes[-1].closed_on = payload.closed_on
                self.episodes[-1].closure_reason = payload.reason_code
            case _:
                self._when_stay(payload)

    def _begin_episode(self, referral: ev.Referred, version: int) -> None:
        if self.person is None:
            self.person = referral.person
        else:  # the traits stay those of the first referral; where the person lives may change
            self.person = self.person.model_copy(update={
                "commune": referral.person.commune,
                "attending_gp": referral.person.attending_gp or self.person.attending_gp})
        self.territory = referral.territory
        self.status = Status.AWAITING_DECISION
        self.episodes.append(Episode(
            len(self.episodes) + 1, referral.referred_on, referral.referrer.name,
            referral.referrer.id, criteria_not_met=tuple(referral.criteria.not_met()),
            territory=referral.territory, first_version=version,
            referral_id=referral.referral_id))
        self.admitted_on = self.case_manager_id = self.waiting_rank = None
        self.open_stay = self.discharged_stay = None
        self.care_circle, self.follow_up, self.alerts = [], FollowUp(), {}
        self.state = begin(self.id, referral)
        self.state.person_label = f"{self.person.given_names} {self.person.family_name}"

    def _decide(self, decision: str, decided_on: date) -> None:
        self.episodes[-1].decision, self.episodes[-1].decided_on = decision, decided_on
