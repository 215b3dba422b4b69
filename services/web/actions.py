"""Every call the web forms make to the application layer, in one place.

Each function takes the signed-in professional and the submitted form, validates it into the
JSON route's request model (``shared.domain.requests``, ``referral_requests``: one contract
per use case, mapped to its event by ``payload()``; ``forms.FormError`` for a mistake, shown
next to its field), checks the same access rule as the JSON route, and calls the ``Journal``.
The application layer's signatures change here only."""

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from pydantic import BaseModel

from services.web import forms, reads
from services.web.guard import Parts
from shared.domain import access
from shared.domain import referral_requests as rrq
from shared.domain import requests as rq
from shared.domain.access import PathwayFacts
from shared.domain.commands import Answer, IdempotentRequest, Meta
from shared.domain.errors import ForbiddenError, PathwayNotFoundError
from shared.domain.pathway import Pathway
from shared.domain.principal import Principal
from shared.events import Actor
from shared.events.payloads import ValidationMeans
from shared.journal.application import Journal

Form = Mapping[str, str]
Rule = Callable[[Principal, PathwayFacts, date], bool]


def _meta(parts: Parts, principal: Principal, form: Form) -> Meta:
    # The actor is the signed-in professional, never something the form declares.
    return Meta(actor=Actor(id=principal.id, role=principal.role), correlation_id=uuid4(),
                now=parts.clock(),
                future_tolerance=timedelta(days=parts.settings.future_date_tolerance_days),
                idempotency=_sent_once(principal, form))


def _sent_once(principal: Principal, form: Form) -> IdempotentRequest | None:
    """The key each form is shown with (``csrf_field``) and what was typed in it: the same
    form sent again is applied once, and the route answers as it did the first time
    (``AlreadyAppliedError``); the form changed and sent again is a new command."""
    shown = str(form.get("idempotency_key", ""))
    if not shown or len(shown) > 64:
        return None
    content = {name: value for name, value in form.items() if name not in forms.HIDDEN}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return IdempotentRequest(scope=principal.id, key=f"web:{shown}:{digest}",
                             fingerprint=digest, answer=lambda pathway: Answer(303, {}, {}))


def _today(parts: Parts) -> date:
    return reads.today(parts)


def _check(parts: Parts, principal: Principal, pathway_id: UUID, rule: Rule,
           what: str) -> None:
    """The same answer as ``shared.api.http.acting``: 404 to whoever may not read the file."""
    facts = PathwayFacts.of(parts.journal.pathway(pathway_id))
    today = _today(parts)
    if rule(principal, facts, today):
        return
    if not access.reads_file(principal, facts, today):
        raise PathwayNotFoundError("Parcours introuvable.", pathway_id=str(pathway_id))
    raise ForbiddenError(f"Votre rôle ne permet pas de {what} pour ce dossier.")


def _follows(p: Principal, f: PathwayFacts, _: date) -> bool:
    return access.follows(p, f)


def _coordinates(p: Principal, f: PathwayFacts, _: date) -> bool:
    return access.coordinates(p, f.territory)


def _execute(parts: Parts, principal: Principal, pathway_id: UUID, form: Form,
             use_case: Callable[[Journal, Meta], Pathway]) -> Pathway:
    """Runs a use case of the case file for whoever follows the person."""
    _check(parts, principal, pathway_id, _follows, "modifier ce dossier")
    return use_case(parts.journal, _meta(parts, principal, form))


def _checked(form: Form, *names: str) -> dict[str, Any]:
    """Checkboxes: present means yes, absent means no."""
    return {name: form.get(name) == "on" for name in names}


# -- intake -----------------------------------------------------------------------------------

CRITERIA = ("c1a_functional_autonomy", "c1b_medical", "c1c_decisional_autonomy",
            "c2_help_insufficient", "c3_no_resource_person")


def refer(parts: Parts, principal: Principal, form: Form) -> None:
    """A referring professional's referral is received whoever the person is (its answer
    the same, finding 9); the DAC's staff are told a rule it breaks, as the JSON route does."""
    data = forms.nest(form)
    data["referrer"] = {**data.get("referrer", {}), "id": principal.id, "name": principal.name}
    data["territory"] = data.get("territory") or principal.territory or ""
    for name in CRITERIA:
        criterion = data.setdefault("criteria", {}).setdefault(name, {})
        criterion["met"] = form.get(f"criteria.{name}.met") == "on"
    data["neuro_evolutive_disease"] = form.get("neuro_evolutive_disease") == "on"
    request = forms.validate(rrq.ReferralRequest, data)
    referral = forms.built(lambda: request.payload(principal.id, principal.name, uuid4()))
    if not access.refers(principal, referral.territory):
        raise ForbiddenError("Votre rôle ne permet pas d'orienter une personne vers ce "
                             "territoire.")
    if principal.role == "referrer":
        parts.journal.receive_referral(referral, _meta(parts, principal, form))
    else:
        parts.journal.refer(referral, _meta(parts, principal, form))


def resolve_repeat(parts: Parts, principal: Principal, pathway_id: UUID, referral_id: UUID,
                   form: Form) -> Pathway:
    body = forms.validate(rrq.RepeatResolution, forms.nest(form))
    _check(parts, principal, pathway_id, _coordinates, "traiter cette orientation")
    return parts.journal.resolve_repeat_referral(pathway_id, referral_id, body.outcome,
                                                 body.comment, _meta(parts, principal, form))


def admit(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    data = forms.nest(form)
    if "criteria_override" in data:  # the form's one field: the commission's justification
        data["criteria_override"] = {"justification": data["criteria_override"]}
    try:
        decision = forms.validate(rrq.AdmissionDecision, data)
    except forms.FormError as mistakes:  # named after the form's field
        raise forms.FormError({name.removesuffix(".justification"): message
                               for name, message in mistakes.errors.items()}) from None
    _check(parts, principal, pathway_id, _coordinates, "prendre cette décision")
    return parts.journal.admit(pathway_id, decision.payload(), decision.case_manager_id,
                               _meta(parts, principal, form))


def refuse(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    decision = forms.validate(rrq.Refusal, forms.nest(form))
    _check(parts, principal, pathway_id, _coordinates, "prendre cette décision")
    return parts.journal.refuse(pathway_id, decision.payload(), _meta(parts, principal, form))


def transfer(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    body = forms.validate(rrq.Transfer, forms.nest(form))
    _check(parts, principal, pathway_id, _coordinates, "transférer ce dossier")
    return parts.journal.transfer(pathway_id, body.case_manager_id, body.reason,
                                  _meta(parts, principal, form))


# -- the case file ----------------------------------------------------------------------------

DOMAINS = ("health", "functional_autonomy", "human_environment", "material_environment",
           "economic_administrative")


def evaluate(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    data = forms.nest(form)
    for name in DOMAINS:
        finding = data.setdefault("domains", {}).setdefault(name, {})
        needs = finding.pop("needs", "")
        finding["needs"] = [n.strip() for n in needs.split(",") if n.strip()]
    evaluation = forms.validate(rq.Evaluation, data).payload()
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.evaluate(pathway_id, evaluation, m))


def revise_plan(parts: Parts, principal: Principal, pathway_id: UUID,
                form: Form) -> Pathway:
    data = forms.nest(form)
    revision = parts.journal.pathway(pathway_id).plan_revision + 1
    problem = data.pop("problem", {})
    service = problem.pop("service", {})
    objective = {"description": problem.pop("objective", "")}
    if service:
        objective["services"] = [service]
    data["problems"] = [{**problem, "objectives": [objective]}]
    data["revision"] = revision
    try:
        plan = forms.validate(rq.PlanRevision, data).payload()
    except forms.FormError as mistakes:  # name the form's fields, not the nested lists
        raise forms.FormError({
            name.replace("problems.0.objectives.0.services.0", "problem.service")
                .replace("problems.0.objectives.0.description", "problem.objective")
                .replace("problems.0", "problem"): message
            for name, message in mistakes.errors.items()}) from None
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.revise_plan(pathway_id, plan, m))


class _ValidationForm(BaseModel):
    """The two forms' fields (the received validation's also names its revision): the
    missing day of reception is told next to its field, after the access check."""

    validated_on: date
    received_via: ValidationMeans | None = None
    received_on: date | None = None


def validate_plan(parts: Parts, principal: Principal, pathway_id: UUID, revision: int,
                  form: Form) -> Pathway:
    body = forms.validate(_ValidationForm, forms.nest(form))
    _check(parts, principal, pathway_id, access.validates_plan, "valider ce PSI")
    received: dict[str, Any] = {}
    if body.received_via and body.received_via != "signed_in":
        if body.received_on is None:
            raise forms.FormError({"received_on": "Indiquez la date de réception."})
        received = {"received_via": body.received_via, "received_on": body.received_on}
    request = rq.Validation.model_validate({"validated_on": body.validated_on, **received})
    return parts.journal.validate_plan(pathway_id, revision, request.validated_on,
                                       request.received(), _meta(parts, principal, form))


def join(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    joined = forms.validate(rq.Joining, forms.nest(form)).payload()
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.join_care_circle(pathway_id, joined, m))


def leave(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    data = forms.nest(form)
    member_id = data.pop("member_id", "")  # the JSON route takes it from its path
    departure = forms.validate(rq.Departure, data)
    left = forms.built(lambda: departure.payload(member_id))
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.leave_care_circle(pathway_id, left, m))


def hospitalise(parts: Parts, principal: Principal, pathway_id: UUID,
                form: Form) -> Pathway:
    data = forms.nest(form)
    data["admitted_at"] = forms.paris_datetime(data.get("admitted_at"))
    stay = forms.validate(rq.Hospitalisation, data).payload()
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.hospitalise(pathway_id, stay, m))


def transfer_stay(parts: Parts, principal: Principal, pathway_id: UUID,
                  form: Form) -> Pathway:
    data = forms.nest(form)
    data["transferred_at"] = forms.paris_datetime(data.get("transferred_at"))
    move = forms.validate(rq.StayTransfer, data).payload()
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.transfer_stay(pathway_id, move, m))


def discharge(parts: Parts, principal: Principal, pathway_id: UUID,
              form: Form) -> Pathway:
    data = forms.nest(form)
    data["discharged_at"] = forms.paris_datetime(data.get("discharged_at"))
    data.update(_checked(form, "discharge_letter_received"))
    out = forms.validate(rq.Discharge, data).payload()
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.discharge(pathway_id, out, m))


def receive_letter(parts: Parts, principal: Principal, pathway_id: UUID,
                   form: Form) -> Pathway:
    letter = forms.validate(rq.DischargeLetter, forms.nest(form)).payload()
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.receive_discharge_letter(pathway_id, letter, m))


def note(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    noted = forms.validate(rq.Note, forms.nest(form)).payload()
    return _execute(parts, principal, pathway_id, form, lambda j, m: j.note(pathway_id, noted, m))


def report_dysfunction(parts: Parts, principal: Principal, pathway_id: UUID,
                       form: Form) -> Pathway:
    territory = parts.journal.pathway(pathway_id).territory  # as the route: the pathway's
    report = forms.validate(rq.DysfunctionReport, forms.nest(form)).payload(territory)
    return _execute(parts, principal, pathway_id, form,
                    lambda j, m: j.report_dysfunction(pathway_id, report, m))


def close(parts: Parts, principal: Principal, pathway_id: UUID, form: Form) -> Pathway:
    closure = forms.validate(rq.Closure, forms.nest(form)).payload()
    _check(parts, principal, pathway_id, _follows, "clore ce dossier")
    return parts.journal.close_episode(pathway_id, closure, _meta(parts, principal, form))


def record_received_validation(parts: Parts, principal: Principal, pathway_id: UUID,
                               form: Form) -> Pathway:
    """The case manager records the GP's validation that reached them by another means."""
    revision = form.get("revision", "")
    if not revision.isdigit():
        raise forms.FormError({"revision": "Indiquez le numéro de la révision."})
    if not form.get("received_via"):
        raise forms.FormError({"received_via": "Indiquez comment la validation est parvenue."})
    return validate_plan(parts, principal, pathway_id, int(revision), form)


COMMANDS: dict[str, Callable[[Parts, Principal, UUID, Form], Pathway]] = {
    "evaluation": evaluate, "psi": revise_plan, "cercle": join, "depart": leave,
    "hospitalisation": hospitalise, "transfert-sejour": transfer_stay, "sortie": discharge,
    "lettre": receive_letter, "note": note, "dysfonctionnement": report_dysfunction,
    "cloture": close, "transfert": transfer, "validation-recue": record_received_validation,
}
"""The case file's forms, by the last part of their address."""


# -- alerts -----------------------------------------------------------------------------------

def acknowledge_alert(parts: Parts, principal: Principal, pathway_id: UUID,
                      alert_id: UUID, form: Form) -> Pathway:
    comment = str(form.get("comment", ""))[:5000]
    _check(parts, principal, pathway_id, access.handles_alerts, "traiter cette alerte")
    return parts.journal.acknowledge_alert(pathway_id, alert_id, comment,
                                           _meta(parts, principal, form))


def resolve_alert(parts: Parts, principal: Principal, pathway_id: UUID,
                  alert_id: UUID, form: Form) -> Pathway:
    comment = str(form.get("comment", ""))
    if not comment.strip():
        raise forms.FormError({"comment": "Dites comment l'alerte a été résolue."})
    _check(parts, principal, pathway_id, access.handles_alerts, "traiter cette alerte")
    return parts.journal.resolve_alert(pathway_id, alert_id, comment[:5000],
                                       _meta(parts, principal, form))
