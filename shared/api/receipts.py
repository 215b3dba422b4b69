"""A referral's receipt, read by its sender (issue 19, finding 9): the JSON route
(``GET /referrals/{id}``) and the web's Mes orientations share it, so the same rule and the
same audit apply to both. Whoever did not send the referral is told it does not exist, as for
an unknown id: a receipt must not tell where a referral went."""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from shared.domain import access
from shared.domain.errors import PathwayNotFoundError
from shared.domain.principal import Principal
from shared.domain.records import Receipt
from shared.journal.application import Journal
from shared.storage.audit import Access, AuditLog


def read_receipt(journal: Journal, audit: AuditLog, principal: Principal, referral_id: UUID,
                 action: str, address: str | None) -> Receipt:
    """The receipt for its sender, the read recorded with its outcome (allowed, refused,
    not_found); ``PathwayNotFoundError`` alike for an unknown id and another's referral."""
    pathway_id = journal.pathway_of_referral(referral_id)
    found = journal.pathway(pathway_id).receipt(referral_id) if pathway_id else None
    outcome = _outcome(principal, found)
    audit.record(_access(principal, action, str(pathway_id or referral_id), outcome, address))
    if found is None or outcome != "allowed":
        raise PathwayNotFoundError("Orientation introuvable.", referral_id=str(referral_id))
    return found


def receipts_of(journal: Journal, audit: AuditLog, principal: Principal,
                sent: Iterable[Mapping[str, Any]], action: str,
                address: str | None) -> list[tuple[Mapping[str, Any], Receipt]]:
    """The receipts of the referrals a view lists as sent by this professional (rows with
    ``referral_id``, ``pathway_id``, ``kind`` and ``episode``), each read recorded: the
    episode's decision, or the repeat referral's outcome. A row the journal does not confirm
    as theirs is left out."""
    shown, accesses = [], []
    for row in sent:
        pathway = journal.pathway(UUID(row["pathway_id"]))
        found = pathway.episode_receipt(row["episode"]) if row["kind"] == "episode" \
            else pathway.receipt(UUID(row["referral_id"]))
        outcome = _outcome(principal, found)
        accesses.append(_access(principal, action, str(pathway.id), outcome, address))
        if found is not None and outcome == "allowed":
            shown.append((row, found))
    audit.record_many(accesses)
    return shown


def _outcome(principal: Principal, found: Receipt | None) -> str:
    if found is None:
        return "not_found"
    return "allowed" if access.reads_receipt(principal, found.sender_id) else "refused"


def _access(principal: Principal, action: str, pathway_id: str, outcome: str,
            address: str | None) -> Access:
    return Access(at=datetime.now(UTC), actor_id=principal.id, actor_role=principal.role,
                  territory=principal.territory, action=action, pathway_id=pathway_id,
                  outcome=outcome, address=address)
