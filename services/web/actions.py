"""Every call the web forms make to the application layer, in one place.

Each function takes the signed-in professional and the submitted form, builds the command's
payload (``forms.FormError`` for a mistake, shown next to its field), checks the same access
rule as the JSON route, and calls the ``Journal``. The application layer's signatures change
here only."""

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict

from services.web import forms
from shared import access
from shared import events as ev
from shared.access import PathwayFacts
from shared.auth import Principal
from shared.events import Actor
from shared.events.values import NonEmpty, Text
from shared.http import ForbiddenError, Platform
from shared.pathway.commands import Meta
from shared.pathway.domain import Pathway
from shared.pathway.errors import PathwayNotFoundError

Form = Mapping[str, str]
Rule = Callable[[Principal, PathwayFacts, date], bool]


def _meta(principal: Principal) -> Meta:
    # The actor is the signed-in professional, never something the form declares.
    return Meta(actor=Actor(id=principal.id, role=principal.role), correlation_id=uuid4())


def _today(platform: Platform) -> date:
    return platform.clock().date()


def _check(platform: Platform, principal: Principal, pathway_id: UUID, rule: Rule,
           what: str) -> None:
    """The same answer as ``shared.http.acting``: 404 to whoever may not read the file."""
    facts = PathwayFacts.of(platform.journal.pathway(pathway_id))
    today = _today(platform)
    if rule(principal, facts, today):
        return
    if not access.reads_file(principal, facts, today):
        raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
    raise ForbiddenError(f"Votre rôle ne permet pas de {what} pour ce dossier.")


def _follows(p: Principal, f: PathwayFacts, _: date) -> bool:
    return access.follows(p, f)


def _coordinates(p: Principal, f: PathwayFacts, _: date) -> bool:
    return access.coordinates(p, f.territory)


def _execute(platform: Platform, principal: Principal, pathway_id: UUID,
             command: Callable[[Pathway, Meta], object]) -> Pathway:
    _check(platform, principal, pathway_id, _follows, "modifier ce dossier")
    meta = _meta(principal)
    return platform.journal.execute(pathway_id, lambda p: command(p, meta))


def _checked(form: Form, *names: str) -> dict[str, Any]:
    """Checkboxes: present means yes, absent means no."""
    return {name: form.get(name) == "on" for name in names}


# -- intake -----------------------------------------------------------------------------------

CRITERIA = ("c1a_functional_autonomy", "c1b_medical", "c1c_decisional_autonomy",
            "c2_help_insufficient", "c3_no_resource_person")


def refer(platform: Platform, principal: Principal, form: Form) -> UUID:
    data = forms.nest(form)
    data["referrer"] = {**data.get("referrer", {}), "id": principal.id, "name": principal.name}
    data["territory"] = data.get("territory") or principal.territory or ""
    for name in CRITERIA:
        criterion = data.setdefault("criteria", {}).setdefault(name, {})
        criterion["met"] = form.get(f"criteria.{name}.met") == "on"
    data["neuro_evolutive_disease"] = form.get("neuro_evolutive_disease") == "on"
    referral = forms.validate(ev.Referred, data)
    if not access.refers(principal, referral.territory):
        raise ForbiddenError("Votre rôle ne permet pas d'orienter une personne vers ce "
                             "territoire.")
    return platform.journal.refer(referral, _meta(principal))


class _Admission(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decided_on: date
    case_manager_id: NonEmpty | None = None
    notes: Text = ""


def admit(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    decision = forms.validate(_Admission, forms.nest(form))
    _check(platform, principal, pathway_id, _coordinates, "prendre cette décision")
    return platform.journal.admit(
        pathway_id, ev.Admitted(decided_on=decision.decided_on, notes=decision.notes),
        decision.case_manager_id, _meta(principal))


def refuse(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    decision = forms.validate(ev.AdmissionRefused, forms.nest(form))
    _check(platform, principal, pathway_id, _coordinates, "prendre cette décision")
    meta = _meta(principal)
    return platform.journal.execute(pathway_id, lambda p: p.refuse(decision, meta))


class _Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_manager_id: NonEmpty
    reason: NonEmpty


def transfer(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    body = forms.validate(_Transfer, forms.nest(form))
    _check(platform, principal, pathway_id, _coordinates, "transférer ce dossier")
    return platform.journal.transfer(pathway_id, body.case_manager_id, body.reason,
                                     _meta(principal))


# -- the case file ----------------------------------------------------------------------------

DOMAINS = ("health", "functional_autonomy", "human_environment", "material_environment",
           "economic_administrative")


def evaluate(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    data = forms.nest(form)
    for name in DOMAINS:
        finding = data.setdefault("domains", {}).setdefault(name, {})
        needs = finding.pop("needs", "")
        finding["needs"] = [n.strip() for n in needs.split(",") if n.strip()]
    evaluation = forms.validate(ev.Evaluated, data)
    return _execute(platform, principal, pathway_id, lambda p, m: p.evaluate(evaluation, m))


def revise_plan(platform: Platform, principal: Principal, pathway_id: UUID,
                form: Form) -> Pathway:
    data = forms.nest(form)
    revision = platform.journal.pathway(pathway_id).plan_revision + 1
    problem = data.pop("problem", {})
    service = problem.pop("service", {})
    objective = {"description": problem.pop("objective", "")}
    if service:
        objective["services"] = [service]
    data["problems"] = [{**problem, "objectives": [objective]}]
    data["revision"] = revision
    try:
        plan = forms.validate(ev.PlanRevised, data)
    except forms.FormError as mistakes:  # name the form's fields, not the nested lists
        raise forms.FormError({
            name.replace("problems.0.objectives.0.services.0", "problem.service")
                .replace("problems.0.objectives.0.description", "problem.objective")
                .replace("problems.0", "problem"): message
            for name, message in mistakes.errors.items()}) from None
    return _execute(platform, principal, pathway_id, lambda p, m: p.revise_plan(plan, m))


class _Validation(BaseModel):
    validated_on: date


def validate_plan(platform: Platform, principal: Principal, pathway_id: UUID, revision: int,
                  form: Form) -> Pathway:
    body = forms.validate(_Validation, forms.nest(form))
    _check(platform, principal, pathway_id, access.validates_plan, "valider ce PSI")
    meta = _meta(principal)
    return platform.journal.execute(
        pathway_id, lambda p: p.validate_plan(revision, body.validated_on, meta))


def join(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    joined = forms.validate(ev.MemberJoined, forms.nest(form))
    return _execute(platform, principal, pathway_id, lambda p, m: p.join(joined, m))


def leave(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    left = forms.validate(ev.MemberLeft, forms.nest(form))
    return _execute(platform, principal, pathway_id, lambda p, m: p.leave(left, m))


def hospitalise(platform: Platform, principal: Principal, pathway_id: UUID,
                form: Form) -> Pathway:
    data = forms.nest(form)
    data["admitted_at"] = forms.paris_datetime(data.get("admitted_at"))
    stay = forms.validate(ev.Hospitalised, data)
    return _execute(platform, principal, pathway_id, lambda p, m: p.hospitalise(stay, m))


def transfer_stay(platform: Platform, principal: Principal, pathway_id: UUID,
                  form: Form) -> Pathway:
    data = forms.nest(form)
    data["transferred_at"] = forms.paris_datetime(data.get("transferred_at"))
    move = forms.validate(ev.StayTransferred, data)
    return _execute(platform, principal, pathway_id, lambda p, m: p.transfer_stay(move, m))


def discharge(platform: Platform, principal: Principal, pathway_id: UUID,
              form: Form) -> Pathway:
    data = forms.nest(form)
    data["discharged_at"] = forms.paris_datetime(data.get("discharged_at"))
    data.update(_checked(form, "discharge_letter_received"))
    out = forms.validate(ev.Discharged, data)
    return _execute(platform, principal, pathway_id, lambda p, m: p.discharge(out, m))


def receive_letter(platform: Platform, principal: Principal, pathway_id: UUID,
                   form: Form) -> Pathway:
    letter = forms.validate(ev.DischargeLetterReceived, forms.nest(form))
    return _execute(platform, principal, pathway_id,
                    lambda p, m: p.receive_discharge_letter(letter, m))


def note(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    noted = forms.validate(ev.FollowUpNoted, forms.nest(form))
    return _execute(platform, principal, pathway_id, lambda p, m: p.note(noted, m))


def report_dysfunction(platform: Platform, principal: Principal, pathway_id: UUID,
                       form: Form) -> Pathway:
    data = forms.nest(form)
    data["territory"] = platform.journal.pathway(pathway_id).territory
    report = forms.validate(ev.DysfunctionReported, data)
    return _execute(platform, principal, pathway_id,
                    lambda p, m: p.report_dysfunction(report, m))


def close(platform: Platform, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    closure = forms.validate(ev.Closed, forms.nest(form))
    _check(platform, principal, pathway_id, _follows, "clore ce dossier")
    return platform.journal.close_episode(pathway_id, closure, _meta(principal))


COMMANDS: dict[str, Callable[[Platform, Principal, UUID, Form], Pathway]] = {
    "evaluation": evaluate, "psi": revise_plan, "cercle": join, "depart": leave,
    "hospitalisation": hospitalise, "transfert-sejour": transfer_stay, "sortie": discharge,
    "lettre": receive_letter, "note": note, "dysfonctionnement": report_dysfunction,
    "cloture": close, "transfert": transfer,
}
"""The case file's forms, by the last part of their address."""


# -- alerts -----------------------------------------------------------------------------------

def acknowledge_alert(platform: Platform, principal: Principal, pathway_id: UUID,
                      alert_id: UUID, form: Form) -> Pathway:
    comment = str(form.get("comment", ""))[:5000]
    meta = _meta(principal)
    ack = ev.AlertAcknowledged(alert_id=alert_id, comment=comment)
    return platform.journal.execute(pathway_id, lambda p: p.acknowledge_alert(ack, meta))


def resolve_alert(platform: Platform, principal: Principal, pathway_id: UUID,
                  alert_id: UUID, form: Form) -> Pathway:
    comment = str(form.get("comment", ""))
    if not comment.strip():
        raise forms.FormError({"comment": "Dites comment l'alerte a été résolue."})
    meta = _meta(principal)
    done = ev.AlertResolved(alert_id=alert_id, resolution=comment[:5000])
    return platform.journal.execute(pathway_id, lambda p: p.resolve_alert(done, meta))
