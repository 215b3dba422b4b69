"""One person's story in the demo: referral, the commission's decision, evaluations and plans,
the care circle, hospital stays, the closure. ``parcours.demo`` runs every story on one
calendar; each story waits some days between its steps (see ``Wait``).

Over 300 lines on purpose: a story reads top to bottom as the pathway it tells, each step
beside the next; cut in two, one would read half a pathway."""

import random
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

from parcours.demo_cast import (
    BACK_FROM_REHABILITATION,
    CLOSURE_COMMENTS,
    CONTEXTS,
    CRITERIA,
    DEATH_IN_HOSPITAL,
    EARLY_ONSET,
    EHPAD_AFTER_STAY,
    EMERGENCIES,
    EVALUATION_SUMMARIES,
    GP_COMMUNES,
    GPS,
    MORE_OFTEN,
    NEEDS,
    NOTES_AT_HOME,
    NOTES_IN_HOSPITAL,
    OTHER_MEMBERS,
    OTHER_REFERRERS,
    OUTSIDE_COMMUNE,
    PLANNED,
    PROBLEMS,
    REFUSAL_WEIGHTS,
    REFUSALS,
    RELATIVES,
    RESOURCE_PERSON_PRESENT,
    SAADS,
    SSIADS,
    TRANSFERS,
    Deck,
    Note,
)
from shared import events as ev
from shared import fictitious
from shared.domain import referral_requests as rrq
from shared.domain import requests as rq
from shared.domain.commands import Meta
from shared.domain.dates import DEFAULT_TIME_ZONE
from shared.events import Actor
from shared.events.values import (
    CareCircleMember,
    Consent,
    Criterion,
    Domains,
    Finding,
    NationalCriteria,
    Objective,
    Person,
    PlannedService,
    Problem,
    RiskLevel,
    Scales,
)
from shared.journal.application import Journal


class Calendar(Protocol):
    """What a story reads and moves on the territory's calendar (``parcours.demo.DemoRun``),
    named here so that the story does not import the calendar that runs it."""

    journal: Journal
    rng: random.Random
    day: date
    followed: dict[int, "PersonStory"]
    tally: Counter[str]
    closure_reasons: Deck
    destinations: Deck

TERRITORY = fictitious.TERRITORY
REFUSAL_RATE = 0.17
COORDINATOR = Actor(id="coord-demo", role="coordinator")

Sex = Literal["F", "M"]
Wait = Generator[int, None, None]
"""A process of the story: each value it yields is the number of days until its next step."""

# Hours of the day (UTC) by kind of fact. A place freed by a closure, or by a new manager,
# goes to a person who waits: it must come after that person's own facts of the same day.
WORKING_HOURS = (8, 14)
COMMISSION = (14, 14)
CLOSING = (16, 17)
TEAM_HOUR = 18
ANY_HOUR = (0, 23)


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class Plan:
    """The service plan as the case manager keeps it: problem index → frequency."""

    lines: dict[int, str] = field(default_factory=dict)
    revision: int = 0
    validated: int = 0


class PersonStory:
    """One person's pathway, from the referral on. Each ``yield`` waits some days."""

    def __init__(self, run: Calendar, number: int, name: tuple[str, str, Sex],
                 referred_on: date, used_ins: set[str]) -> None:
        self.demo, self.number, self.referred_on = run, number, referred_on
        # A story draws from its own generator: its course does not depend on the others'.
        self.rng = random.Random(run.rng.getrandbits(64))
        self.refusal: str | None = (_weighted(self.rng, REFUSAL_WEIGHTS)
                                    if self.rng.random() < REFUSAL_RATE else None)
        self.referrer = self.rng.choice((*GPS, *OTHER_REFERRERS))
        commune = (OUTSIDE_COMMUNE if self.refusal == "out_of_territory"
                   else self.rng.choice(fictitious.COMMUNES))
        self.gp = (self.referrer if self.referrer in GPS
                   else self.rng.choice(GP_COMMUNES.get(commune, GPS)))
        self.early_onset = self.rng.random() < 0.02
        self.person = self._person(name, commune, used_ins)
        self.opened: UUID | None = None  # the pathway, once referred
        self.manager: str | None = None
        self.in_hospital = False
        self.last: datetime | None = None
        self.plan = Plan()
        self.scales = {"adl_hierarchy": self.rng.randint(1, 4), "cps": self.rng.randint(1, 4),
                       "chess": self.rng.randint(0, 3), "drs": self.rng.randint(0, 5),
                       "maple": self.rng.randint(3, 5)}
        self.members: dict[str, CareCircleMember] = {}
        self.followed_days = int(self.rng.expovariate(1 / 520)) + 60

    def _person(self, name: tuple[str, str, Sex], commune: str,
                used_ins: set[str]) -> Person:
        family_name, given_names, sex = name
        age = (self.rng.randint(56, 59) if self.early_onset
               else int(self.rng.triangular(64, 98, 86)))
        birth = date(self.referred_on.year - age - 1, self.rng.randint(1, 12),
                     self.rng.randint(1, 28))
        ins = fictitious.fictitious_ins_for(self.rng, sex, birth)
        while ins in used_ins:  # two persons never share an INS
            ins = fictitious.fictitious_ins_for(self.rng, sex, birth)
        used_ins.add(ins)
        return Person(ins=ins, family_name=family_name, given_names=given_names,
                      birth_date=birth, sex=sex, commune=commune, attending_gp=self.gp.name)

    # -- time and actors ----------------------------------------------------------------------

    @property
    def day(self) -> date:
        return self.demo.day

    def moment(self, hours: tuple[int, int] = WORKING_HOURS) -> datetime:
        """A time on the current day, always after this pathway's previous fact."""
        at = datetime.combine(self.day, time(self.rng.randint(*hours),
                                             self.rng.choice((0, 15, 30, 45))),
                              tzinfo=DEFAULT_TIME_ZONE)
        if self.last is not None and at <= self.last:
            at = self.last + timedelta(minutes=10)
        self.last = at
        return at

    def meta(self, actor: Actor, hours: tuple[int, int] = WORKING_HOURS) -> Meta:
        return Meta(actor=actor, occurred_at=self.moment(hours))

    @property
    def case_manager(self) -> Actor:
        return Actor(id=self.manager or COORDINATOR.id,
                     role="case_manager" if self.manager else COORDINATOR.role)

    @property
    def pathway_id(self) -> UUID:
        if self.opened is None:
            raise LookupError("this person has not been referred yet")
        return self.opened

    # -- intake -------------------------------------------------------------------------------

    def run(self) -> Wait:
        while True:
            self.refer()
            decided = self.day + timedelta(days=4)
            yield 4 + (1 - decided.weekday()) % 7  # the commission meets on Tuesdays
            if self.refusal is None:
                break
            reason = self.refusal
            self.refuse(reason)
            if reason not in ("criteria_not_met", "person_declined") or self.rng.random() < .5:
                return
            # The situation worsens and a professional refers the person again; admitted.
            self.refusal = None
            yield self.rng.randint(60, 200)
        self.admit()
        while self.manager is None:  # on the waiting list until a place is freed
            yield 7
            self.manager = self.demo.journal.pathway(self.pathway_id).case_manager_id
        self.demo.followed[self.number] = self
        yield from self.follow()

    def refer(self) -> None:
        details = rrq.ReferrerDetails(**self.referrer.model_dump(
            include={"profession", "organisation", "contact", "rpps"}))
        request = rrq.ReferralRequest(
            referred_on=self.day, territory=TERRITORY, referrer=details,
            person=self.person, neuro_evolutive_disease=self.early_onset,
            criteria=self._criteria(),
            consent=Consent(given_on=self.day,
                            given_by=self.rng.choice(("la personne", "la personne",
                                                      "sa fille, personne de confiance"))),
            context=EARLY_ONSET if self.early_onset else self.rng.choice(CONTEXTS),
        )
        # The referral's id is not from the story's rng: the story stays the same.
        referral = request.payload(self.referrer.id, self.referrer.name, uuid4())
        # A referring professional's referral, as the API receives it: it opens the person's
        # pathway, or the next episode after a refusal (never a repeat referral here).
        actor = Actor(id=self.referrer.id, role="referrer")
        received = self.demo.journal.receive_referral(referral, self.meta(actor))
        assert received.opened, "the demo refers persons without an open pathway"
        self.opened = received.pathway_id

    def _criteria(self) -> NationalCriteria:
        met = {name: Criterion(met=True, justification=text) for name, text in CRITERIA.items()}
        if self.refusal == "criteria_not_met":
            met["c3_no_resource_person"] = Criterion(met=False,
                                                     justification=RESOURCE_PERSON_PRESENT)
        return NationalCriteria(**met)

    def refuse(self, reason_code: Any) -> None:
        reason, orientation = REFUSALS[reason_code]
        if reason_code == "person_declined":
            orientation = orientation.model_copy(update={"to": f"{self.gp.name} (médecin "
                                                               "traitant)"})
        refusal = rrq.Refusal(decided_on=self.day, reason_code=reason_code, reason=reason,
                              orientation=orientation)
        self.demo.journal.refuse(self.pathway_id, refusal.payload(),
                                 self.meta(COORDINATOR, COMMISSION))

    def admit(self) -> None:
        decision = rrq.AdmissionDecision(decided_on=self.day,
                                         notes="Admission validée en commission.")
        pathway = self.demo.journal.admit(self.pathway_id, decision.payload(),
                                          decision.case_manager_id,
                                          self.meta(COORDINATOR, COMMISSION))
        self.manager = pathway.case_manager_id
        if pathway.waiting_rank is not None:
            self.demo.tally["waited"] += 1

    # -- follow-up ----------------------------------------------------------------------------

    def follow(self) -> Wait:
        yield self.rng.randint(2, 6)
        yield from self.build_care_circle()
        yield self.rng.randint(5, 20)
        self.evaluate("initial")
        yield self.rng.randint(3, 12)
        self.revise_plan()
        end = self.day + timedelta(days=self.followed_days)
        last_evaluation, plan_due = self.day, False
        while True:
            yield self.rng.randint(12, 35)
            roll = self.rng.random()
            if self.plan.validated < self.plan.revision and roll < 0.8:
                self.validate_plan()
            elif self.day >= end:
                break
            elif plan_due:
                self.revise_plan()
                plan_due = False
            elif (self.day - last_evaluation).days >= self.rng.randint(150, 200):
                self.evaluate("periodic")
                last_evaluation, plan_due = self.day, self.rng.random() < 0.7
            elif roll < 0.12:
                closed = yield from self.hospital_stay()
                if closed:
                    return
                last_evaluation, plan_due = self.day, self.rng.random() < 0.6
            elif roll < 0.15:
                self.change_care_circle()
            elif roll < 0.17:
                self.evaluate("change")
                last_evaluation = self.day
            else:
                self.note(self.rng.choice(NOTES_AT_HOME))
        reason: ev.payloads.ClosureReason = self.demo.closure_reasons.draw()
        self.close(reason, CLOSURE_COMMENTS[reason])

    def build_care_circle(self) -> Wait:
        gp = CareCircleMember(member_id=self.gp.id, name=self.gp.name, role="attending_gp",
                              organisation=self.gp.organisation, contact=self.gp.contact)
        others = [self.rng.choice(SAADS)] if self.rng.random() < 0.8 else []
        if self.rng.random() < 0.45:
            others.append(self.rng.choice(SSIADS))
        if self.rng.random() < 0.7:
            others.append(self._relative())
        others += [m for m in OTHER_MEMBERS if self.rng.random() < 0.25]
        self.join(gp)
        for member in others:
            yield self.rng.randint(1, 5)
            self.join(member)

    def _relative(self) -> CareCircleMember:
        given, relation = self.rng.choice(RELATIVES)
        return CareCircleMember(member_id=f"aidant-{self.number:03d}",
                                name=f"{given} {self.person.family_name} ({relation})",
                                role="family_carer",
                                contact=f"aidant-{self.number:03d}@exemple.invalid")

    def join(self, member: CareCircleMember) -> None:
        joined = rq.Joining(member=member, joined_on=self.day).payload()
        self.demo.journal.join_care_circle(self.pathway_id, joined, self.meta(self.case_manager))
        self.members[member.member_id] = member

    def change_care_circle(self) -> None:
        """The family changes home-help service, or one is set up for the first time."""
        current = [m for m in self.members.values() if m.role == "saad"]
        if current:
            left = rq.Departure(left_on=self.day,
                                reason="Changement de SAAD à la demande de la famille."
                                ).payload(current[0].member_id)
            self.demo.journal.leave_care_circle(self.pathway_id, left,
                                                 self.meta(self.case_manager))
            del self.members[current[0].member_id]
        self.join(self.rng.choice([s for s in SAADS if s not in current]))

    def evaluate(self, kind: ev.payloads.EvaluationKind) -> None:
        if kind != "initial":
            self._worsen(self.rng.choice(list(self.scales)))
        evaluation = rq.Evaluation(kind=kind, evaluated_on=self.day, domains=self._domains(),
                                   scales=Scales(**self.scales),
                                   summary=EVALUATION_SUMMARIES[kind])
        self.demo.journal.evaluate(self.pathway_id, evaluation.payload(),
                                   self.meta(self.case_manager))

    def _worsen(self, scale: str) -> None:
        ceiling = {"adl_hierarchy": 6, "cps": 6, "chess": 5, "drs": 14, "maple": 5}[scale]
        self.scales[scale] = min(ceiling, self.scales[scale] + self.rng.randint(0, 1))

    def _domains(self) -> Domains:
        risks: tuple[RiskLevel, ...] = ("low", "moderate", "high")
        found = {domain: Finding(needs=self.rng.sample(needs, self.rng.randint(0, 2)),
                                 risk=self.rng.choice(risks))
                 for domain, needs in NEEDS.items()}
        return Domains(**found)

    def revise_plan(self) -> None:
        lines = self.plan.lines
        if not lines:
            for index in self.rng.sample(range(len(PROBLEMS)), self.rng.randint(2, 3)):
                lines[index] = PROBLEMS[index][4]
        else:
            index = self.rng.choice(sorted(lines))
            lines[index] = MORE_OFTEN.get(lines[index], lines[index])
            new = [i for i in range(len(PROBLEMS)) if i not in lines]
            if new and self.rng.random() < 0.6:
                added = self.rng.choice(new)
                lines[added] = PROBLEMS[added][4]
        self.plan.revision += 1
        plan = rq.PlanRevision(revision=self.plan.revision, problems=self._problems(),
                               revised_on=self.day,
                               summary="PSI élaboré avec la personne et son entourage."
                               if self.plan.revision == 1 else
                               "PSI révisé après l'évolution de la situation.")
        self.demo.journal.revise_plan(self.pathway_id, plan.payload(),
                                      self.meta(self.case_manager))

    def _problems(self) -> list[Problem]:
        problems = []
        for index, frequency in sorted(self.plan.lines.items()):
            description, objective, service, provider, _ = PROBLEMS[index]
            in_circle = [m.name for m in self.members.values() if m.role == service]
            planned = PlannedService(type=service, provider=in_circle[0] if in_circle
                                     else provider, frequency=frequency)
            problems.append(Problem(description=description, objectives=[
                Objective(description=objective, services=[planned])]))
        return problems

    def validate_plan(self) -> None:
        """The case manager records the médecin traitant's validation of the latest plan."""
        revision = self.plan.revision
        validation = rq.Validation(validated_on=self.day, received_via="messagerie_securisee",
                                   received_on=self.day)
        self.demo.journal.validate_plan(self.pathway_id, revision, validation.validated_on,
                                        validation.received(), self.meta(self.case_manager))
        self.plan.validated = revision

    def note(self, note: Note) -> None:
        kind, with_whom, summary = note
        noted = rq.Note(kind=kind, with_whom=with_whom, contact_on=self.day, summary=summary)
        self.demo.journal.note(self.pathway_id, noted.payload(), self.meta(self.case_manager))

    def report(self, category: ev.payloads.DysfunctionCategory, description: str) -> None:
        report = rq.DysfunctionReport(category=category, description=description,
                                      reported_on=self.day)
        self.demo.journal.report_dysfunction(self.pathway_id, report.payload(TERRITORY),
                                             self.meta(self.case_manager))

    # -- hospital stays: the follow-up goes on during the stay --------------------------------

    def hospital_stay(self) -> Generator[int, None, bool]:
        """A stay from admission to discharge and what follows; True when it ends the file."""
        emergency = self.rng.random() < 0.75
        establishment, ward, reason = self.rng.choice(EMERGENCIES if emergency else PLANNED)
        stay = rq.Hospitalisation(establishment=establishment, ward=ward, reason=reason,
                                  admitted_at=self.moment(ANY_HOUR if emergency
                                                          else WORKING_HOURS),
                                  kind="emergency" if emergency else "planned")
        # No occurred_at in the meta: the stay's own admission time is when it happened.
        self.demo.journal.hospitalise(self.pathway_id, stay.payload(),
                                      Meta(actor=self.case_manager))
        self.in_hospital = True
        length = self.rng.randint(3, 28) if emergency else self.rng.randint(2, 10)
        elapsed = 0
        if length >= 6:
            elapsed += (wait := self.rng.randint(2, 4))
            yield wait
            self.note(self.rng.choice(NOTES_IN_HOSPITAL))
        if length >= 10 and self.rng.random() < 0.3:
            elapsed += (wait := self.rng.randint(2, 5))
            yield wait
            self.transfer_stay()
        yield max(1, length - elapsed)
        destination: ev.payloads.DischargeDestination = (
            self.demo.destinations.draw() if emergency
            else _weighted(self.rng, {"home": 9, "rehabilitation": 1}))
        self.discharge(destination)
        return (yield from self.after_discharge(destination))

    def transfer_stay(self) -> None:
        establishment, ward = self.rng.choice(TRANSFERS)
        transfer = rq.StayTransfer(establishment=establishment, ward=ward,
                                   transferred_at=self.moment())
        self.demo.journal.transfer_stay(self.pathway_id, transfer.payload(),
                                        Meta(actor=self.case_manager))

    def discharge(self, destination: ev.payloads.DischargeDestination) -> None:
        discharge = rq.Discharge(discharged_at=self.moment(), destination=destination,
                                 discharge_letter_received=self.rng.random() < 0.65)
        self.demo.journal.discharge(self.pathway_id, discharge.payload(),
                                    Meta(actor=self.case_manager))
        self.in_hospital = False

    def after_discharge(self, destination: str) -> Generator[int, None, bool]:
        if destination == "death":
            yield self.rng.randint(1, 4)
            self.close("death", DEATH_IN_HOSPITAL)
            return True
        if destination == "ehpad":
            yield self.rng.randint(2, 10)
            self.close("establishment", EHPAD_AFTER_STAY)
            return True
        if destination == "rehabilitation":
            yield self.rng.randint(15, 40)
            self.note(BACK_FROM_REHABILITATION)
        # The return evaluation is due within a week; now and then it comes late.
        yield self.rng.randint(2, 7) if self.rng.random() < 0.85 else self.rng.randint(8, 20)
        self.evaluate("post_discharge")
        return False

    def close(self, reason: ev.payloads.ClosureReason, comment: str) -> None:
        handed_over_to = (f"{self.gp.name} (médecin traitant)" if reason == "stabilisation"
                          else None)
        closure = rq.Closure(closed_on=self.day, reason_code=reason,
                             handed_over_to=handed_over_to, comment=comment)
        self.demo.journal.close_episode(self.pathway_id, closure.payload(),
                                        self.meta(self.case_manager, CLOSING))
        self.demo.followed.pop(self.number, None)
