"""The analytics stream's view of an event: pseudonymised, so that analysts count and follow
pathways without ever seeing a named person.

Identifiers are replaced by keyed hashes (HMAC-SHA256 with a secret key kept out of the
repository): the same pathway or professional keeps the same pseudonym across events, and
nobody without the key can go back. Free text is dropped: it may name anyone. The birth date
becomes a five-year age band at the referral."""

import hashlib
import hmac
from datetime import date
from typing import Any
from uuid import UUID

from shared.events.envelope import EventEnvelope

FORMAT = "pseudonymised-v1"

DROPPED = frozenset({
    # the person
    "ins", "family_name", "given_names", "birth_date", "commune", "attending_gp",
    # professionals and relatives
    "name", "contact", "rpps", "case_manager_name", "validated_by", "handed_over_to",
    "given_by", "recipients", "organisation", "provider",
    # free text
    "justification", "context", "notes", "summary", "reason", "description", "comment",
    "resolution", "title", "message", "details", "criteria_override",
})
PSEUDONYMISED = frozenset({"id", "member_id", "case_manager_id", "professional_id",
                           "validator_id", "recorded_by", "resolved_by"})


def pseudonym(key: bytes, value: str, prefix: str = "p") -> str:
    digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return f"{prefix}-{digest[:20]}"


def pathway_pseudonym(key: bytes, pathway_id: UUID) -> UUID:
    digest = hmac.new(key, b"pathway:" + pathway_id.bytes, hashlib.sha256).digest()
    return UUID(bytes=digest[:16], version=4)


def _clean(key: bytes, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (pseudonym(key, str(v)) if k in PSEUDONYMISED and v is not None
                    else _clean(key, v))
                for k, v in value.items() if k not in DROPPED}
    if isinstance(value, list):
        return [_clean(key, item) for item in value]
    return value


def _age_band(data: dict[str, Any]) -> str | None:
    person, on = data.get("person"), data.get("referred_on")
    if not isinstance(person, dict) or not person.get("birth_date") or not on:
        return None
    born, day = date.fromisoformat(person["birth_date"]), date.fromisoformat(on)
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    low = age // 5 * 5
    return f"{low}-{low + 4}"


def pseudonymise(envelope: EventEnvelope, key: bytes) -> EventEnvelope:
    data = _clean(key, envelope.data)
    if envelope.type == "Referred":
        data["person"] = {**data.get("person", {}), "age_band": _age_band(envelope.data)}
    return envelope.model_copy(update={
        "pathway_id": pathway_pseudonym(key, envelope.pathway_id),
        "actor": envelope.actor.model_copy(update={"id": pseudonym(key, envelope.actor.id)}),
        "data": data,
    })
