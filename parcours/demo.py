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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from parcours.demo_cast import (
    BETWEEN_HIRES,
    CLOSURE_WEIGHTS,
    DESTINATIONS,
    DYSFUNCTIONS,
    FAMILY_NAMES,
    FOUNDERS,
    HIRES,
    HIRING_QUEUE,
    LATEST_HIRING_DAY,
    MEN,
    REBALANCING,
    WOMEN,
    CaseManager,
    Deck,
)
from parcours.demo_story import (
    COORDINATOR,
    TEAM_HOUR,
    TERRITORY,
    PersonStory,
    Sex,
    Wait,
)
from shared.domain.commands import Meta
from shared.domain.records import Status
from shared.journal.application import Journal

WINDOW_DAYS = 548  # eighteen months before today
PERSONS = 117  # with the new referrals after a refusal: about 120 referrals
RECENT = 2  # referrals of the last days, still awaiting the commission's decision




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

    def _cast(self) -> list[PersonStory]:
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
