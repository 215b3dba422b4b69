"""The analytics stream's view of an event: what analysts need to count and follow pathways,
and nothing that could be joined back to a person.

- **An allow-list per event type and version** (``ALLOWED``): a field that is not listed never
  leaves, and an event type (or a new version of one) that is not listed publishes nothing
  until someone decides what of it may go.
- **Every identifier keyed-hashed** (HMAC-SHA256, the key kept out of the repository, one
  domain per kind of identifier): the pathway, the event, the correlation, the actor, the case
  manager, care-circle members, alerts. Stable, so a pathway can be followed; not reversible,
  and never equal to the main topic's ids. The global position is not carried.
- **Dates coarsened**: when it happened to the month, when it was recorded to the ISO week.
- **No free text**: only codes (checked to look like codes), booleans and numbers are kept; the
  birth date becomes a five-year age band."""

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from shared.events.envelope import EventEnvelope

FORMAT = "pseudonymised-v2"
_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")

Rule = Callable[[bytes, Any], Any]
Spec = Mapping[str, Any]  # field → Rule, a nested Spec, or a one-item list of either


class _Dropped(Exception):
    """A value that looks like free text where a code was expected: the field does not leave."""


def keyed(kind: str) -> Rule:
    def rule(key: bytes, value: Any) -> str:
        digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind[0]}-{digest[:24]}"
    return rule


def code(key: bytes, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and _CODE.match(value):
        return value
    raise _Dropped


def number(key: bytes, value: Any) -> Any:
    if isinstance(value, bool | int | float) or value is None:
        return value
    raise _Dropped


def month(key: bytes, value: Any) -> str:
    return _moment(value).strftime("%Y-%m")


def week(key: bytes, value: Any) -> str:
    year, number_, _ = _moment(value).isocalendar()
    return f"{year}-W{number_:02d}"


def _moment(value: Any) -> date:
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


def present(key: bytes, value: Any) -> bool:
    """Whether a field was filled, never what it says (a justification, an event's id)."""
    return value is not None and value != ""


PATHWAY, PROFESSIONAL = keyed("pathway"), keyed("professional")
CRITERION = {"met": code}
FINDING = {"risk": code}

ALLOWED: dict[tuple[str, int], Spec] = {
    ("Referred", 1): {
        "referred_on": month, "territory": code, "referrer": {"id": PROFESSIONAL},
        "person": {"sex": code}, "neuro_evolutive_disease": code,
        "criteria": {name: CRITERION for name in (
            "c1a_functional_autonomy", "c1b_medical", "c1c_decisional_autonomy",
            "c2_help_insufficient", "c3_no_resource_person")},
    },
    ("Admitted", 1): {"decided_on": month, "criteria_override": present},
    ("AdmissionRefused", 1): {"decided_on": month, "reason_code": code,
                              "orientation": {"kind": code}},
    ("CaseManagerAssigned", 1): {"case_manager_id": PROFESSIONAL},
    ("Waitlisted", 1): {"rank": number, "since": month},
    ("Evaluated", 1): {
        "kind": code, "evaluated_on": month,
        "domains": {name: FINDING for name in (
            "health", "functional_autonomy", "human_environment", "material_environment",
            "economic_administrative")},
        "scales": {name: number for name in ("adl_hierarchy", "cps", "chess", "drs", "maple")},
    },
    ("PlanRevised", 1): {"revision": number, "revised_on": month, "problems": [
        {"objectives": [{"services": [{"type": code}]}]}]},
    ("PlanValidated", 1): {"revision": number, "validated_on": month, "means": code,
                           "received_on": month, "validator_id": PROFESSIONAL,
                           "recorded_by": PROFESSIONAL},
    ("MemberJoined", 1): {"member": {"member_id": PROFESSIONAL, "role": code},
                          "joined_on": month},
    ("MemberLeft", 1): {"member_id": PROFESSIONAL, "left_on": month},
    ("Hospitalised", 1): {"admitted_at": month, "kind": code},
    ("StayTransferred", 1): {"transferred_at": month},
    ("Discharged", 1): {"discharged_at": month, "destination": code,
                        "discharge_letter_received": code},
    ("DischargeLetterReceived", 1): {"received_on": month},
    ("FollowUpNoted", 1): {"kind": code, "with_whom": code, "contact_on": month},
    ("DysfunctionReported", 1): {"category": code, "territory": code, "reported_on": month},
    ("AlertRaised", 1): {"alert_id": keyed("alert"), "rule": code, "severity": code,
                         "due_at": month,
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
                            "consent_given_on": month},
    ("AdmissionCancelled", 1): {"admitted_at": month, "cancelled_at": month},
    ("TransferCancelled", 1): {"cancelled_at": month},
    ("DischargeCancelled", 1): {"admitted_at": month, "cancelled_at": month},
    # Which movement, its corrected month, kind and destination; never the hospital's movement
    # id nor the unit's name.
    ("MovementCorrected", 1): {"movement": code, "movement_event_id": present, "at": month,
                               "kind": code, "destination": code},
    ("Closed", 1): {"closed_on": month, "reason_code": code},
}


def _apply(key: bytes, spec: Any, value: Any) -> Any:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise _Dropped
        kept = {}
        for name, inner in spec.items():
            if name in value:
                try:
                    kept[name] = _apply(key, inner, value[name])
                except _Dropped:
                    continue
        return kept
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise _Dropped
        return [_apply(key, spec[0], item) for item in value]
    try:
        return spec(key, value)
    except (ValueError, TypeError):
        raise _Dropped from None


def _age_band(data: dict[str, Any]) -> str | None:
    person, on = data.get("person"), data.get("referred_on")
    if not isinstance(person, dict) or not person.get("birth_date") or not on:
        return None
    born, day = date.fromisoformat(person["birth_date"]), date.fromisoformat(on)
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    low = age // 5 * 5
    return f"{low}-{low + 4}"


def pathway_pseudonym(key: bytes, pathway_id: Any) -> str:
    return str(PATHWAY(key, pathway_id))


def pseudonymise(envelope: EventEnvelope, key: bytes) -> dict[str, Any] | None:
    """The analytics record of an event, or None when its type and version are not listed."""
    spec = ALLOWED.get((envelope.type, envelope.schema_version))
    if spec is None:
        return None
    data = _apply(key, spec, envelope.data)
    if envelope.type == "Referred":
        data.setdefault("person", {})["age_band"] = _age_band(envelope.data)
    return {
        "format": FORMAT,
        "pathway": pathway_pseudonym(key, envelope.pathway_id),
        "event": keyed("event")(key, envelope.event_id),
        "correlation": keyed("correlation")(key, envelope.correlation_id),
        "type": envelope.type,
        "schema_version": envelope.schema_version,
        "stream_version": envelope.stream_version,
        "occurred_month": month(key, envelope.occurred_at),
        "recorded_week": week(key, envelope.recorded_at),
        "actor": {"id": PROFESSIONAL(key, envelope.actor.id),
                  "role": envelope.actor.role if _CODE.match(envelope.actor.role) else None},
        "data": data,
    }


def to_json(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()
