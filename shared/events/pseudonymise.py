"""The analytics stream's view of an event: what analysts need to count and follow pathways,
and nothing that could be joined back to a person.

- **An allow-list per event type and version** (``ALLOWED``): a field that is not listed never
  leaves, and an event type (or a new version of one) that is not listed publishes nothing
  until someone decides what of it may go.
- **Periods**: a record belongs to the calendar period (a quarter by default) in which its
  fact happened, and every date in it is given to that precision. Nothing in a record links it
  to another period: no stream version, and every identifier is keyed with the period.
- **Every identifier keyed-hashed** under a key derived for the period (HMAC-SHA256 of the
  period under the secret, then one domain per kind of identifier): the pathway, the event,
  the correlation, the actor, the case manager, care-circle members, alerts. Stable within a
  period, so a pathway can be followed there; different in the next one; not reversible, and
  never equal to the main topic's ids. The global position is not carried.
- **No free text**: only codes (checked to look like codes), booleans and numbers are kept.
- **k-anonymous referrals** (``Population``): the quasi-identifiers of a referral (territory,
  sex, age band, neuro-evolutive disease, with the period) are published at the finest level of
  ``LEVELS`` whose combination at least k persons referred in that territory and period share,
  counted on the store's log up to this referral; what cannot reach k is left out. The count
  depends on the log's prefix only, so a replay publishes the same records."""

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, Literal
from uuid import UUID

from shared.domain.dates import DEFAULT_TIME_ZONE
from shared.events.envelope import EventEnvelope

FORMAT = "pseudonymised-v3"
_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")

Period = Literal["month", "quarter", "year"]


@dataclass(frozen=True)
class Scope:
    """What the rules of one record need: the key of its period, and how fine a date goes."""

    key: bytes
    period: Period
    zone: tzinfo


Rule = Callable[[Scope, Any], Any]
Spec = Mapping[str, Any]  # field → Rule, a nested Spec, or a one-item list of either


class _Dropped(Exception):
    """A value that looks like free text where a code was expected: the field does not leave."""


def keyed(kind: str) -> Rule:
    def rule(scope: Scope, value: Any) -> str:
        digest = hmac.new(scope.key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind[0]}-{digest[:24]}"
    return rule


def code(scope: Scope, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and _CODE.match(value):
        return value
    raise _Dropped


def number(scope: Scope, value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    raise _Dropped


def dated(scope: Scope, value: Any) -> str:
    """A date or a moment, to the period's precision (``2026-03``, ``2026-Q1``, ``2026``)."""
    return period_of(_day(value, scope.zone), scope.period)


def period_of(day: date, period: Period) -> str:
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _day(value: Any, zone: tzinfo) -> date:
    """The calendar day of a fact in the territory, as the domain counts days."""
    if not isinstance(value, date):
        text = str(value)
        value = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    if isinstance(value, datetime):
        return value.astimezone(zone).date() if value.tzinfo else value.date()
    return value


def present(scope: Scope, value: Any) -> bool:
    """Whether a field was filled, never what it says (a justification, an event's id)."""
    return value is not None and value != ""


PATHWAY, PROFESSIONAL = keyed("pathway"), keyed("professional")
CRITERION = {"met": code}
FINDING = {"risk": code}

ALLOWED: dict[tuple[str, int], Spec] = {
    # The person's traits are not listed: ``Population`` publishes them, generalised.
    ("Referred", 1): {
        "referred_on": dated, "referrer": {"id": PROFESSIONAL},
        "criteria": {name: CRITERION for name in (
            "c1a_functional_autonomy", "c1b_medical", "c1c_decisional_autonomy",
            "c2_help_insufficient", "c3_no_resource_person")},
    },
    ("Admitted", 1): {"decided_on": dated, "criteria_override": present},
    ("AdmissionRefused", 1): {"decided_on": dated, "reason_code": code,
                              "orientation": {"kind": code}},
    ("CaseManagerAssigned", 1): {"case_manager_id": PROFESSIONAL},
    ("Waitlisted", 1): {"rank": number, "since": dated},
    ("Evaluated", 1): {
        "kind": code, "evaluated_on": dated,
        "domains": {name: FINDING for name in (
            "health", "functional_autonomy", "human_environment", "material_environment",
            "economic_administrative")},
        "scales": {name: number for name in ("adl_hierarchy", "cps", "chess", "drs", "maple")},
    },
    ("PlanRevised", 1): {"revision": number, "revised_on": dated, "problems": [
        {"objectives": [{"services": [{"type": code}]}]}]},
    ("PlanValidated", 1): {"revision": number, "validated_on": dated, "means": code,
                           "received_on": dated, "validator_id": PROFESSIONAL,
                           "recorded_by": PROFESSIONAL},
    ("MemberJoined", 1): {"member": {"member_id": PROFESSIONAL, "role": code},
                          "joined_on": dated},
    ("MemberLeft", 1): {"member_id": PROFESSIONAL, "left_on": dated},
    ("Hospitalised", 1): {"admitted_at": dated, "kind": code},
    ("StayTransferred", 1): {"transferred_at": dated},
    ("Discharged", 1): {"discharged_at": dated, "destination": code,
                        "discharge_letter_received": code},
    ("DischargeLetterReceived", 1): {"received_on": dated},
    ("FollowUpNoted", 1): {"kind": code, "with_whom": code, "contact_on": dated},
    ("DysfunctionReported", 1): {"category": code, "territory": code, "reported_on": dated},
    ("AlertRaised", 1): {"alert_id": keyed("alert"), "rule": code, "severity": code,
                         "due_at": dated,
                         "recipients": [{"professional_id": PROFESSIONAL, "role": code}]},
    ("AlertAcknowledged", 1): {"alert_id": keyed("alert")},
    ("AlertResolved", 1): {"alert_id": keyed("alert"), "resolved_by": PROFESSIONAL,
                           "cleared_by_event_id": present},
    ("IdentityCorrected", 1): {},  # that it happened; the traits never leave
    # That it happened and which traits differed; not which hospital, nor its message.
    ("IdentityVigilanceRaised", 1): {"vigilance_id": keyed("vigilance"),
                                     "differing_traits": [code]},
    ("IdentityVigilanceResolved", 1): {"vigilance_id": keyed("vigilance"),
                                       "resolved_by": PROFESSIONAL},
    ("IdentityQualified", 1): {},  # that it happened; not which hospital knows the person
    ("EpisodesShared", 1): {"from_territory": code, "with_territory": code,
                            "consent_given_on": dated},
    ("AdmissionCancelled", 1): {"admitted_at": dated, "cancelled_at": dated},
    ("TransferCancelled", 1): {"cancelled_at": dated},
    ("DischargeCancelled", 1): {"admitted_at": dated, "cancelled_at": dated},
    # Which movement, its corrected date, kind and destination; never the hospital's movement
    # id nor the unit's name.
    ("MovementCorrected", 1): {"movement": code, "movement_event_id": present, "at": dated,
                               "kind": code, "destination": code},
    ("Closed", 1): {"closed_on": dated, "reason_code": code},
    # That a person was referred again, and why; never the traits the sender typed (another
    # person's, maybe), nor the territory it was sent to.
    ("ReferralReceivedAgain", 1): {"referral_id": keyed("referral"), "reason": code,
                                   "referred_on": dated, "referrer": {"id": PROFESSIONAL}},
    ("RepeatReferralResolved", 1): {"referral_id": keyed("referral"), "outcome": code,
                                    "resolved_by": PROFESSIONAL},
}


def _apply(scope: Scope, spec: Any, value: Any) -> Any:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise _Dropped
        kept = {}
        for name, inner in spec.items():
            if name in value:
                try:
                    kept[name] = _apply(scope, inner, value[name])
                except _Dropped:
                    continue
        return kept
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise _Dropped
        return [_apply(scope, spec[0], item) for item in value]
    try:
        return spec(scope, value)
    except (ValueError, TypeError):
        raise _Dropped from None


@dataclass(frozen=True)
class Traits:
    """What a referral says of the person that someone who knows them could recognise."""

    sex: str | None
    age: int | None
    neuro_evolutive_disease: bool | None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "Traits":
        person = data.get("person")
        if not isinstance(person, dict):
            person = {}
        sex, neuro = person.get("sex"), data.get("neuro_evolutive_disease")
        return cls(sex if isinstance(sex, str) and _CODE.match(sex) else None,
                   _age(person.get("birth_date"), data.get("referred_on")),
                   neuro if isinstance(neuro, bool) else None)


def _age(born: Any, on: Any) -> int | None:
    try:
        birth, day = date.fromisoformat(str(born)), date.fromisoformat(str(on))
    except ValueError:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _band(age: int | None, width: int) -> str | None:
    if age is None:
        return None
    low = age // width * width
    return f"{low}-{low + width - 1}"


Level = Callable[[Traits], dict[str, Any]]
LEVELS: tuple[Level, ...] = (
    lambda t: {"sex": t.sex, "age_band": _band(t.age, 10),
               "neuro_evolutive_disease": t.neuro_evolutive_disease},
    lambda t: {"sex": t.sex, "age_band": _band(t.age, 20),
               "neuro_evolutive_disease": t.neuro_evolutive_disease},
    lambda t: {"age_band": _band(t.age, 20),
               "neuro_evolutive_disease": t.neuro_evolutive_disease},
    lambda t: {},
)
"""From the finest to the coarsest; fixed, so that a combination means the same in every
record. The last one keeps the territory alone; below it, not even that. The disease goes with
the age: it says 'under 60' when the age band is gone."""


def is_referral(envelope: EventEnvelope) -> bool:
    return envelope.type == "Referred" and envelope.schema_version == 1


class Population:
    """Persons referred, per territory, period and combination of generalised traits, as the
    log has told them so far. A person is counted once per territory and period (a second
    referral in the same quarter is the same person)."""

    def __init__(self, k: int) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k
        self._persons: set[tuple[UUID, Any, str]] = set()
        self._cells: Counter[tuple[Any, ...]] = Counter()

    def add(self, pathway: UUID, territory: Any, period: str, traits: Traits) -> None:
        if (pathway, territory, period) in self._persons:
            return
        self._persons.add((pathway, territory, period))
        for number, level in enumerate(LEVELS):
            self._cells[_cell(territory, period, number, level(traits))] += 1

    def published(self, territory: Any, period: str, traits: Traits) -> dict[str, Any]:
        """The finest combination at least k persons share, with the territory; nothing (not
        the territory either) when not even the territory and period hold k persons."""
        for number, level in enumerate(LEVELS):
            fields = level(traits)
            if self._cells[_cell(territory, period, number, fields)] >= self.k:
                return {"territory": territory, **fields}
        return {}

    def clear(self) -> None:
        self._persons.clear()
        self._cells.clear()


def _cell(territory: Any, period: str, level: int, fields: dict[str, Any]) -> tuple[Any, ...]:
    return (territory, period, level, tuple(sorted(fields.items())))


@dataclass
class Analytics:
    """Turns the store's log into analytics records. It must see every referral of the log in
    order (``record`` or ``count``): ``position`` says how far it has counted, and a reader that
    starts elsewhere counts the referrals before its start first (``restart``)."""

    key: bytes
    k: int = 5
    period: Period = "quarter"
    zone: tzinfo = DEFAULT_TIME_ZONE
    position: int = 0  # the last log position counted
    population: Population = field(init=False)
    _keys: dict[str, bytes] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.population = Population(self.k)

    def restart(self, referrals: "list[EventEnvelope]", start: int) -> None:
        """Counts anew from the referrals the log holds before ``start``."""
        self.population.clear()
        for envelope in referrals:
            self.count(envelope)
        self.position = start - 1

    def count(self, envelope: EventEnvelope) -> None:
        if is_referral(envelope):
            self.population.add(envelope.pathway_id, self._territory(envelope),
                                self.period_of(envelope), Traits.of(envelope.data))

    def period_of(self, envelope: EventEnvelope) -> str:
        return period_of(_day(envelope.occurred_at, self.zone), self.period)

    def pseudonym(self, pathway_id: Any, period: str) -> str:
        return str(PATHWAY(self._scope(period), pathway_id))

    def record(self, envelope: EventEnvelope) -> dict[str, Any] | None:
        """The analytics record of the next event of the log, or None when its type and
        version are not listed."""
        self.count(envelope)
        spec = ALLOWED.get((envelope.type, envelope.schema_version))
        if spec is None:
            return None
        period = self.period_of(envelope)
        scope = self._scope(period)
        data = _apply(scope, spec, envelope.data)
        if is_referral(envelope):
            traits = self.population.published(self._territory(envelope), period,
                                               Traits.of(envelope.data))
            if "territory" in traits:
                data["territory"] = traits.pop("territory")
            if "neuro_evolutive_disease" in traits:
                data["neuro_evolutive_disease"] = traits.pop("neuro_evolutive_disease")
            data["person"] = traits
        return {
            "format": FORMAT,
            "period": period,
            "pathway": PATHWAY(scope, envelope.pathway_id),
            "event": keyed("event")(scope, envelope.event_id),
            "correlation": keyed("correlation")(scope, envelope.correlation_id),
            "type": envelope.type,
            "schema_version": envelope.schema_version,
            "actor": {"id": PROFESSIONAL(scope, envelope.actor.id),
                      "role": envelope.actor.role if _CODE.match(envelope.actor.role) else None},
            "data": data,
        }

    def _scope(self, period: str) -> Scope:
        key = self._keys.get(period)
        if key is None:
            key = self._keys[period] = hmac.new(self.key, f"period:{period}".encode(),
                                                hashlib.sha256).digest()
        return Scope(key, self.period, self.zone)

    @staticmethod
    def _territory(envelope: EventEnvelope) -> Any:
        territory = envelope.data.get("territory")
        return territory if isinstance(territory, str) and _CODE.match(territory) else None


def pseudonymise(envelope: EventEnvelope, key: bytes) -> dict[str, Any] | None:
    """One event alone: a referral then shows no trait of the person (one person is below any
    k). The relay uses an ``Analytics`` that has seen the whole log."""
    return Analytics(key).record(envelope)


def to_json(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()
