"""What the pages read: projection query functions, the journal and the read audit. No
writes here (the read audit excepted, which every read of a person's file records)."""

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request

from projections.caseload import queries as caseload
from projections.contacts.projection import EDGES
from projections.dysfunctions.projection import TABLE as DYSFUNCTIONS
from projections.ruptures.projection import ALERT_COLUMNS, ALERTS
from services.web import labels
from services.web.guard import Parts
from shared.api.http import Rule, load_for_reading, visible_events
from shared.api.receipts import receipts_of
from shared.domain import access
from shared.domain.access import PathwayFacts
from shared.domain.dates import local_day
from shared.domain.errors import PathwayNotFoundError
from shared.domain.pathway import Pathway
from shared.domain.principal import Principal
from shared.domain.records import Receipt
from shared.events import EventEnvelope


def today(parts: Parts) -> date:
    """Today in the territory: a form's default date is the facts' calendar, not UTC's."""
    return local_day(parts.clock(), parts.settings.zone())


def fresh(parts: Parts) -> Parts:
    parts.catch_up()  # embedded mode: a page shows the writes already made
    return parts


def file(parts: Parts, principal: Principal, pathway_id: UUID, action: str,
         request: Request, rule: Rule = access.reads_file) -> Pathway:
    """The file, its read recorded here with its outcome (so the page's own audit of the
    persons it shows does not record it twice)."""
    request.state.audited = {*getattr(request.state, "audited", ()), str(pathway_id).lower()}
    return load_for_reading(parts.journal, parts.audit, principal, pathway_id, action, rule,
                            today(parts), request.client.host if request.client else None)


def journal(parts: Parts, pathway_id: UUID) -> list[EventEnvelope]:
    """The whole journal, for what a page shows of the current referral only."""
    return list(parts.journal.events_of(pathway_id))


def file_journal(parts: Parts, principal: Principal,
                 pathway_id: UUID) -> list[EventEnvelope]:
    """The journal of the episodes this professional may read."""
    return visible_events(parts.journal, principal, pathway_id, today(parts))


def caseload_of(parts: Parts, manager_id: str) -> list[dict[str, Any]]:
    with fresh(parts).views.transaction() as tx:
        return caseload.persons_of(tx, manager_id, today(parts))


def capacity_of(parts: Parts, principal: Principal) -> tuple[int | None, int | None]:
    if not principal.territory:
        return None, None
    board = parts.journal.territory(principal.territory)
    if principal.id not in board.managers:
        return None, None
    return board.managers[principal.id][1], board.free_places(principal.id)


def coordination(parts: Parts, territory: str) -> dict[str, Any]:
    board = parts.journal.territory(territory)
    with fresh(parts).views.transaction() as tx:
        loads = {m.case_manager_id: asdict(m)
                 for m in caseload.manager_loads(tx, today(parts), territory)}
        waiting = caseload.waiting_for_place(tx, territory)
        awaiting = caseload.awaiting_decision(tx, territory)
        repeats = caseload.repeat_referrals(tx, territory)
        categories = [(c, int(n)) for c, n in tx.execute(
            f"SELECT category, COUNT(*) FROM {DYSFUNCTIONS} WHERE territory = :t"
            " GROUP BY category ORDER BY category", {"t": territory})]
    managers = []
    for manager_id in sorted(board.managers):
        name, capacity = board.managers[manager_id]
        active = loads.get(manager_id, {}).get("active", 0)
        managers.append({"id": manager_id, "name": name, "capacity": capacity,
                         "active": active, "free": board.free_places(manager_id)})
    return {"managers": managers, "waiting": waiting, "awaiting": awaiting,
            "repeats": repeats, "dysfunctions": categories}


def referrals_sent(parts: Parts, principal: Principal,
                   request: Request) -> list[tuple[Mapping[str, Any], Receipt]]:
    """The referrals a professional sent, as they sent them, with their receipts (each read
    recorded in the audit, as ``GET /referrals/{id}``)."""
    with fresh(parts).views.transaction() as tx:
        sent = caseload.referrals_sent(tx, principal.id)
    return receipts_of(parts.journal, parts.audit, principal, sent, "web:referral-receipt",
                       request.client.host if request.client else None)


def refusal_of(parts: Parts, pathway_id: UUID, episode: int | None) -> Any:
    """The refusal of one episode, with the orientation given: what its referrer is told."""
    if episode is None:
        return None
    known = parts.journal.pathway(pathway_id).episodes[episode - 1]
    return next((e.payload() for e in parts.journal.events_of(pathway_id)
                 if e.type == "AdmissionRefused"
                 and known.first_version <= e.stream_version <= known.last_version), None)


def pathways_where(parts: Parts, member_id: str, role: str) -> list[UUID]:
    """The persons someone intervenes for in a role (referrer, médecin traitant), from the
    contacts view."""
    with fresh(parts).views.transaction() as tx:
        rows = tx.execute(f"SELECT DISTINCT pathway_id FROM {EDGES} WHERE member_id = :m"
                          " AND role = :r ORDER BY pathway_id", {"m": member_id, "r": role})
    return [UUID(r[0]) for r in rows]


def alerts_for(parts: Parts, principal: Principal, state: str | None = None,
               rule: str | None = None, pathway_id: str | None = None) -> list[dict[str, Any]]:
    """The alerts a professional may see: a coordinator, the territory's; anyone else, those
    addressed to them (as ``GET /alerts``)."""
    where, params = ["1 = 1"], {}
    if principal.role == "coordinator":
        where.append("territory = :territory")
        params["territory"] = principal.territory
    for column, value in (("state", state), ("rule", rule), ("pathway_id", pathway_id)):
        if value:
            where.append(f"{column} = :{column}")
            params[column] = value
    with fresh(parts).views.transaction() as tx:
        rows = tx.execute(f"SELECT {', '.join(ALERT_COLUMNS)} FROM {ALERTS} WHERE "
                          f"{' AND '.join(where)} ORDER BY raised_at DESC, alert_id", params)
    alerts = [dict(zip(ALERT_COLUMNS, row, strict=True)) for row in rows]
    for alert in alerts:
        alert["recipients"] = json.loads(alert["recipients"])
    if principal.role != "coordinator":  # addressed to them, and the file's rule holds today
        day = today(parts)
        alerts = [a for a in alerts
                  if any(r["professional_id"] == principal.id for r in a["recipients"])
                  and access.reads_file(principal, _facts(parts, a["pathway_id"]), day)]
    return alerts


def _facts(parts: Parts, pathway_id: str) -> PathwayFacts:
    return PathwayFacts.of(parts.journal.pathway(UUID(pathway_id)))


def alert(parts: Parts, principal: Principal, alert_id: UUID) -> dict[str, Any]:
    found = [a for a in alerts_for(parts, principal) if a["alert_id"] == str(alert_id)]
    if not found:
        raise PathwayNotFoundError("Alerte introuvable.", alert_id=str(alert_id))
    return found[0]


def access_history(parts: Parts, pathway_id: UUID) -> list[dict[str, str | None]]:
    return parts.audit.of_pathway(str(pathway_id))


def manager_name(parts: Parts, territory: str, manager_id: str | None) -> str | None:
    if manager_id is None:
        return None
    managers = parts.journal.territory(territory).managers
    return managers[manager_id][0] if manager_id in managers else manager_id


def persons_of_territory(parts: Parts, territory: str) -> list[tuple[str, str]]:
    """Every person the territory has a file for, to choose whose access history to see."""
    with fresh(parts).views.transaction() as tx:
        rows = tx.execute(f"SELECT pathway_id, person_name, status FROM {caseload.TABLE}"
                          " WHERE territory = :t ORDER BY person_name, pathway_id",
                          {"t": territory})
    return [(r[0], f"{r[1]} ({labels.label(r[2])})") for r in rows]


def names_of(parts: Parts, pathway_ids: set[str]) -> list[tuple[str, str]]:
    """The persons' names for some pathways, from the caseload view, sorted by name."""
    if not pathway_ids:
        return []
    with fresh(parts).views.transaction() as tx:
        rows = tx.execute(f"SELECT pathway_id, person_name FROM {caseload.TABLE}")
    return sorted(((r[0], r[1]) for r in rows if r[0] in pathway_ids), key=lambda r: r[1])


def managers_of(parts: Parts, territory: str) -> list[tuple[str, str]]:
    board = parts.journal.territory(territory)
    return [(manager_id, f"{board.managers[manager_id][0]} "
                         f"({board.free_places(manager_id)} place(s) libre(s))")
            for manager_id in sorted(board.managers)]
