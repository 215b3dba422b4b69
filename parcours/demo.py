"""``parcours demo``: eighteen months of a fictitious territory, told through the journal.

Every fact goes through the Journal application's commands, the ones the HTTP API calls, so
the demo obeys the rules of the practice exactly as real use does: capacities and the waiting
list, one open stay at a time, plan revisions in sequence, validation by the médecin traitant.
The story is simulated day by day: each person's pathway is a generator that waits some days
between steps, and a calendar runs them all in date order, so that places freed by a closure
go to the persons waiting on that very day. A seeded ``random.Random`` makes it reproducible.

Every name is obviously made up (Fictif, Exemple, Modèle…), e-mails end in ``exemple.invalid``
and INS numbers use department 99. Texts a professional reads are in French."""

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from uuid import UUID

from parcours.demo_cast import (
    BACK_FROM_REHABILITATION,
    BETWEEN_HIRES,
    CLOSURE_COMMENTS,
    CLOSURE_WEIGHTS,
    CONTEXTS,
    CRITERIA,
    DEATH_IN_HOSPITAL,
    DESTINATIONS,
    DYSFUNCTIONS,
    EARLY_ONSET,
    EHPAD_AFTER_STAY,
    EMERGENCIES,
    EVALUATION_SUMMARIES,
    FAMILY_NAMES,
    FOUNDERS,
    GP_COMMUNES,
    GPS,
    HIRES,
    HIRING_QUEUE,
    LATEST_HIRING_DAY,
    MEN,
    MORE_OFTEN,
    NEEDS,
    NOTES_AT_HOME,
    NOTES_IN_HOSPITAL,
    OTHER_MEMBERS,
    OTHER_REFERRERS,
    OUTSIDE_COMMUNE,
    PLANNED,
    PROBLEMS,
    REBALANCING,
    REFUSAL_WEIGHTS,
    REFUSALS,
    RELATIVES,
    RESOURCE_PERSON_PRESENT,
    SAADS,
    SSIADS,
    TRANSFERS,
    WOMEN,
    CaseManager,
    Note,
)
from shared import events as ev
from shared import fictitious
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
from shared.pathway.application import Journal
from shared.pathway.commands import Meta
from shared.pathway.dates import DEFAULT_TIME_ZONE
from shared.pathway.records import ReceivedValidation, Status

TERRITORY = fictitious.TERRITORY
WINDOW_DAYS = 548  # eighteen months before today
PERSONS = 117  # with the new referrals after a refusal: about 120 referrals
REFUSAL_RATE = 0.17
RECENT = 2  # referrals of the last days, still awaiting the commission's decision
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


@dataclass(frozen=True)
class DemoSummary:
    """What the demo left in the journal. ``refused`` counts refusal decisions (a person may be
    referred again and admitted later); the states (active…) are today's."""

    pathways: int
    referrals: int
    events: int
    refused: int
    active: int
    closed: int
    in_hospital: int
    waiting: int
    waited: int
    awaiting_decision: int
    transfers: int
    dysfunctions: int
    closure_reasons: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the terminal that started the platform."""
        return (f"Demo territory loaded: {self.pathways} persons, {self.referrals} referrals "
                f"({self.refused} refused, {self.awaiting_decision} awaiting a decision), "
                f"{self.active} followed today ({self.in_hospital} in hospital, "
                f"{self.waiting} waiting for a place; {self.waited} waited at some point), "
                f"{self.closed} closed; {self.events} events.")


def load_demo(journal: Journal, *, seed: int = 2026, today: date | None = None,
              progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Fills the journal with the demo territory's last eighteen months, up to yesterday."""
    run = DemoRun(journal, random.Random(seed), today or date.today())
    run.simulate(progress or (lambda done, total: None))
    return run.summary()


def is_empty(journal: Journal) -> bool:
    """True when nothing at all was ever stored: the only state in which the demo may load."""
    return not journal.recorder.max_notification_id()


# -- the cast -------------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Deck:
    """Draws outcomes in fixed proportions from a shuffled deck, refilled when empty: unlike
    independent draws, a short story still shows every outcome (each EHPAD entry, each
    way a follow-up ends)."""

    def __init__(self, rng: random.Random, proportions: dict[Any, int]) -> None:
        self.rng, self.proportions = rng, proportions
        self.cards: list[Any] = []

    def draw(self) -> Any:
        if not self.cards:
            self.cards = [o for o, n in self.proportions.items() for _ in range(n)]
            self.rng.shuffle(self.cards)
        return self.cards.pop()


# -- the calendar ---------------------------------------------------------------------------


class DemoRun:
    """The territory's calendar: runs every process in date order, up to yesterday."""

    def __init__(self, journal: Journal, rng: random.Random, today: date) -> None:
        self.journal, self.rng, self.today = journal, rng, today
        self.start = today - timedelta(days=WINDOW_DAYS)
        self.day = self.start
        self.followed: dict[int, PersonStory] = {}  # assigned and not closed, by number
        self.tally: Counter[str] = Counter()
        self.closure_reasons = Deck(rng, CLOSURE_WEIGHTS)
        self.destinations = Deck(rng, DESTINATIONS)
        self.stories = self._cast()

    def _cast(self) -> list["PersonStory"]:
        women: list[tuple[str, str, Sex]] = [(f, g, "F") for f in FAMILY_NAMES for g in WOMEN]
        men: list[tuple[str, str, Sex]] = [(f, g, "M") for f in FAMILY_NAMES for g in MEN]
        names = self.rng.sample(women + men, PERSONS)
        # Referrals grow a little over time, as a service becomes known on its territory.
        days = [int(3 + (WINDOW_DAYS - 5) * self.rng.random() ** 0.85)
                for _ in range(PERSONS - RECENT)]
        # The last referrals arrived this week: the commission has not met on them yet.
        days = sorted(days + [WINDOW_DAYS - self.rng.randint(1, 3) for _ in range(RECENT)])
        used_ins: set[str] = set()
        return [PersonStory(self, number, name, self.start + timedelta(days=day), used_ins)
                for number, (name, day) in enumerate(zip(names, days, strict=True), start=1)]

    def simulate(self, progress: Callable[[int, int], None]) -> None:
        processes: list[tuple[date, Wait]] = [(self.start, self._team()),
                                              (self.start, self._dysfunctions())]
        processes += [(story.referred_on, story.run()) for story in self.stories]
        calendar = [(day, n, process) for n, (day, process) in enumerate(processes)]
        heapq.heapify(calendar)
        order = itertools.count(len(calendar))
        total = WINDOW_DAYS
        while calendar and calendar[0][0] < self.today:
            day, _, process = heapq.heappop(calendar)
            if day != self.day:
                self.day = day
                progress((day - self.start).days, total)
            wait = next(process, None)
            if wait is not None:
                heapq.heappush(calendar, (day + timedelta(days=wait), next(order), process))
        progress(total, total)  # what would happen from today on is not told

    def evening(self, day: date) -> datetime:
        return datetime.combine(day, time(TEAM_HOUR), tzinfo=UTC)

    # -- the team and the coordinator ---------------------------------------------------------

    def _team(self) -> Wait:
        for founder in FOUNDERS:
            self._register(founder)
        elapsed = 0
        while (len(self.journal.territory(TERRITORY).queue) < HIRING_QUEUE
               and elapsed < LATEST_HIRING_DAY):
            yield 7
            elapsed += 7
        for number, hire in enumerate(HIRES):
            if number:
                yield BETWEEN_HIRES
            self._register(hire)  # the persons waiting take the newcomer's first places
            self._rebalance(hire.id)

    def _register(self, manager: CaseManager) -> None:
        self.journal.register_manager(TERRITORY, manager.id, manager.name, manager.capacity,
                                      Meta(actor=COORDINATOR, occurred_at=self.evening(self.day)))

    def _rebalance(self, newcomer: str) -> None:
        """The coordinator hands a few persons from the busiest caseloads to a newcomer."""
        for _ in range(REBALANCING):
            board = self.journal.territory(TERRITORY)
            if board.free_places(newcomer) <= 0:
                return
            busiest = max((m for m in sorted(board.managers) if m != newcomer), key=board.load)
            candidates = [s for _, s in sorted(self.followed.items())
                          if s.manager == busiest and not s.in_hospital]
            if not candidates:
                return
            story = self.rng.choice(candidates)
            self.journal.transfer(story.pathway_id, newcomer,
                                  "Rééquilibrage des files actives : arrivée d'un gestionnaire.",
                                  story.meta(COORDINATOR))
            story.manager = newcomer
            self.tally["transfers"] += 1

    def _dysfunctions(self) -> Wait:
        """Case managers report what they meet, about a dozen times over the period."""
        reports = list(DYSFUNCTIONS)
        self.rng.shuffle(reports)
        days = sorted(self.rng.sample(range(60, WINDOW_DAYS - 3), len(reports)))
        elapsed = 0
        for day, (category, description) in zip(days, reports, strict=True):
            yield day - elapsed
            elapsed = day
            candidates = [s for _, s in sorted(self.followed.items())]
            if candidates:
                self.rng.choice(candidates).report(category, description)
                self.tally["dysfunctions"] += 1

    # -- what is left -----------------------------------------------------------------------

    def summary(self) -> DemoSummary:
        pathways = [self.journal.pathway(s.pathway_id) for s in self.stories if s.opened]
        episodes = [e for p in pathways for e in p.episodes]
        status = Counter(p.status for p in pathways)
        return DemoSummary(
            pathways=len(pathways),
            referrals=len(episodes),
            events=sum(p.version for p in pathways),
            refused=sum(1 for e in episodes if e.decision == "refused"),
            active=status[Status.ACTIVE],
            closed=status[Status.CLOSED],
            in_hospital=sum(1 for p in pathways if p.open_stay is not None),
            waiting=sum(1 for p in pathways if p.waiting_rank is not None),
            waited=self.tally["waited"],
            awaiting_decision=status[Status.AWAITING_DECISION],
            transfers=self.tally["transfers"],
            dysfunctions=self.tally["dysfunctions"],
            closure_reasons=dict(sorted(Counter(e.closure_reason for e in episodes
                                                if e.closure_reason).items())),
        )


# -- one person -----------------------------------------------------------------------------


@dataclass
class Plan:
    """The service plan as the case manager keeps it: problem index → frequency."""

    lines: dict[int, str] = field(default_factory=dict)
    revision: int = 0
    validated: int = 0


class PersonStory:
    """One person's pathway, from the referral on. Each ``yield`` waits some days."""

    def __init__(self, run: DemoRun, number: int, name: tuple[str, str, Sex],
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
        referral = ev.Referred(
            referred_on=self.day, territory=TERRITORY, referrer=self.referrer,
            person=self.person, neuro_evolutive_disease=self.early_onset,
            criteria=self._criteria(),
            consent=Consent(given_on=self.day,
                            given_by=self.rng.choice(("la personne", "la personne",
                                                      "sa fille, personne de confiance"))),
            context=EARLY_ONSET if self.early_onset else self.rng.choice(CONTEXTS),
        )
        actor = Actor(id=self.referrer.id, role="referrer")
        self.opened = self.demo.journal.refer(referral, self.meta(actor))

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
        refusal = ev.AdmissionRefused(decided_on=self.day, reason_code=reason_code,
                                      reason=reason, orientation=orientation)
        self.demo.journal.refuse(self.pathway_id, refusal, self.meta(COORDINATOR, COMMISSION))

    def admit(self) -> None:
        decision = ev.Admitted(decided_on=self.day, notes="Admission validée en commission.")
        pathway = self.demo.journal.admit(self.pathway_id, decision, None,
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
        joined = ev.MemberJoined(member=member, joined_on=self.day)
        self.demo.journal.join_care_circle(self.pathway_id, joined, self.meta(self.case_manager))
        self.members[member.member_id] = member

    def change_care_circle(self) -> None:
        """The family changes home-help service, or one is set up for the first time."""
        current = [m for m in self.members.values() if m.role == "saad"]
        if current:
            left = ev.MemberLeft(member_id=current[0].member_id, left_on=self.day,
                                 reason="Changement de SAAD à la demande de la famille.")
            self.demo.journal.leave_care_circle(self.pathway_id, left,
                                                 self.meta(self.case_manager))
            del self.members[current[0].member_id]
        self.join(self.rng.choice([s for s in SAADS if s not in current]))

    def evaluate(self, kind: ev.payloads.EvaluationKind) -> None:
        if kind != "initial":
            self._worsen(self.rng.choice(list(self.scales)))
        evaluation = ev.Evaluated(kind=kind, evaluated_on=self.day, domains=self._domains(),
                                  scales=Scales(**self.scales),
                                  summary=EVALUATION_SUMMARIES[kind])
        self.demo.journal.evaluate(self.pathway_id, evaluation, self.meta(self.case_manager))

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
        plan = ev.PlanRevised(revision=self.plan.revision, problems=self._problems(),
                              revised_on=self.day,
                              summary="PSI élaboré avec la personne et son entourage."
                              if self.plan.revision == 1 else
                              "PSI révisé après l'évolution de la situation.")
        self.demo.journal.revise_plan(self.pathway_id, plan, self.meta(self.case_manager))

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
        received = ReceivedValidation(means="messagerie_securisee", received_on=self.day)
        self.demo.journal.validate_plan(self.pathway_id, revision, self.day, received,
                                        self.meta(self.case_manager))
        self.plan.validated = revision

    def note(self, note: Note) -> None:
        kind, with_whom, summary = note
        noted = ev.FollowUpNoted(kind=kind, with_whom=with_whom, contact_on=self.day,
                                 summary=summary)
        self.demo.journal.note(self.pathway_id, noted, self.meta(self.case_manager))

    def report(self, category: ev.payloads.DysfunctionCategory, description: str) -> None:
        report = ev.DysfunctionReported(category=category, description=description,
                                        territory=TERRITORY, reported_on=self.day)
        self.demo.journal.report_dysfunction(self.pathway_id, report,
                                             self.meta(self.case_manager))

    # -- hospital stays: the follow-up goes on during the stay --------------------------------

    def hospital_stay(self) -> Generator[int, None, bool]:
        """A stay from admission to discharge and what follows; True when it ends the file."""
        emergency = self.rng.random() < 0.75
        establishment, ward, reason = self.rng.choice(EMERGENCIES if emergency else PLANNED)
        stay = ev.Hospitalised(establishment=establishment, ward=ward, reason=reason,
                               admitted_at=self.moment(ANY_HOUR if emergency
                                                       else WORKING_HOURS),
                               kind="emergency" if emergency else "planned")
        # No occurred_at in the meta: the stay's own admission time is when it happened.
        self.demo.journal.hospitalise(self.pathway_id, stay, Meta(actor=self.case_manager))
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
        transfer = ev.StayTransferred(establishment=establishment, ward=ward,
                                      transferred_at=self.moment())
        self.demo.journal.transfer_stay(self.pathway_id, transfer,
                                        Meta(actor=self.case_manager))

    def discharge(self, destination: ev.payloads.DischargeDestination) -> None:
        discharge = ev.Discharged(discharged_at=self.moment(), destination=destination,
                                  discharge_letter_received=self.rng.random() < 0.65)
        self.demo.journal.discharge(self.pathway_id, discharge, Meta(actor=self.case_manager))
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
        closure = ev.Closed(closed_on=self.day, reason_code=reason,
                            handed_over_to=handed_over_to, comment=comment)
        self.demo.journal.close_episode(self.pathway_id, closure,
                                        self.meta(self.case_manager, CLOSING))
        self.demo.followed.pop(self.number, None)
