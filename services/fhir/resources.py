"""Pathway → FHIR R4 resources, validated by the R4B models of ``fhir.resources`` (R4 content;
the package's default models are R5 and would drop R4 fields). Pure: no I/O.

Over 300 lines: one short builder per resource type, side by side so that their shared
references (patient, episode, organisation) stay consistent."""

import html
from datetime import datetime
from typing import Any
from uuid import UUID

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.careteam import CareTeam
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.episodeofcare import EpisodeOfCare
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.resource import Resource

from services.fhir.timeline import EpisodeView, MembershipView, PlanView, StayView
from shared.domain.records import Alert
from shared.events.values import Person

INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
FR_CORE = "https://hl7.fr/ig/fhir/core"
IDENTITY_RELIABILITY = f"{FR_CORE}/StructureDefinition/fr-core-identity-reliability"
IDENTITY_STATUS = f"{FR_CORE}/CodeSystem/fr-core-cs-v2-0445"
IDENTIFIER_TYPE = f"{FR_CORE}/CodeSystem/fr-core-cs-v2-0203"
PATIENT_INS_PROFILE = f"{FR_CORE}/StructureDefinition/fr-core-patient-ins"
# Parcours' own names for its codes; ".invalid" says they resolve nowhere (yet).
PARCOURS = "https://parcours.invalid/fhir"
PROFESSIONAL = f"{PARCOURS}/professional"
TERRITORY = f"{PARCOURS}/territory"
CARE_ROLE = f"{PARCOURS}/CodeSystem/care-role"
SERVICE_TYPE = f"{PARCOURS}/CodeSystem/service-type"
RUPTURE_RULE = f"{PARCOURS}/CodeSystem/rupture-rule"
PLAN_VALIDATION = f"{PARCOURS}/StructureDefinition/plan-validation"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
DISCHARGE_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"

_GENDER = {"F": "female", "M": "male", "X": "other"}
_DISPOSITION = {"home": ("home", "Domicile"), "ehpad": ("snf", "EHPAD"),
                "rehabilitation": ("rehab", "Soins médicaux et de réadaptation"),
                "other_hospital": ("other-hcf", "Autre établissement de santé"),
                "death": ("exp", "Décès")}
_ROLE_LABEL = {"attending_gp": "Médecin traitant", "nurse": "Infirmier", "ssiad": "SSIAD",
               "saad": "SAAD", "physiotherapist": "Masseur-kinésithérapeute",
               "pharmacist": "Pharmacien", "social_worker": "Assistant de service social",
               "family_carer": "Proche aidant", "trusted_person": "Personne de confiance",
               "hospital_team": "Équipe hospitalière", "other": "Autre"}


def narrative(*lines: str) -> dict[str, str]:
    """The human-readable summary FHIR recommends on every resource (dom-6)."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def patient_ref(pathway_id: UUID) -> dict[str, str]:
    return {"reference": f"Patient/{pathway_id}"}


def _professional(professional_id: str, name: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {"type": "Practitioner",
                                 "identifier": {"system": PROFESSIONAL, "value": professional_id}}
    if name:
        reference["display"] = name
    return reference


def _dac(territory: str) -> dict[str, Any]:
    return {"type": "Organization", "identifier": {"system": TERRITORY, "value": territory},
            "display": f"DAC {territory}"}


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def patient(pathway_id: UUID, person: Person, qualified_by: str | None = None) -> Patient:
    """FR Core Patient (INS): the INS, and the identity's reliability. Parcours holds the INS as
    the referrer typed it and does not call the INSi teleservice: the identity is provisional
    (PROV), unless a known hospital sent the same INS with the same traits as a qualified
    identity (``IdentityQualified``): then it is that validated identity (VALI)."""
    status = ("VALI", "Identité validée") if qualified_by else ("PROV", "Identité provisoire")
    resource: dict[str, Any] = {
        # No meta.profile: FR Core is declared in the CapabilityStatement (supportedProfile),
        # since a validator without the FR Core package rejects an unresolvable claim.
        "resourceType": "Patient", "id": str(pathway_id),
        "text": narrative(f"{person.family_name.upper()} {person.given_names}, née ou né le "
                          f"{person.birth_date.isoformat()}, INS {person.ins}"),
        "extension": [{"url": IDENTITY_RELIABILITY, "extension": [{
            "url": "identityStatus",
            "valueCoding": {"system": IDENTITY_STATUS, "code": status[0],
                            "display": status[1]}}]}],
        "identifier": [{
            "use": "official",
            "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "INS-NIR",
                                 "display": "NIR définitif"}]},
            "system": INS_SYSTEM, "value": person.ins}],
        "name": [{"use": "official", "family": person.family_name,
                  "given": person.given_names.split()}],
        "gender": _GENDER[person.sex],
        "birthDate": person.birth_date.isoformat(),
        "address": [{"use": "home", "city": person.commune, "country": "FR"}],
    }
    if person.attending_gp:
        resource["generalPractitioner"] = [{"display": person.attending_gp}]
    return Patient.model_validate(resource)


def episode_id(pathway_id: UUID, episode: EpisodeView) -> str:
    return f"{pathway_id}-{episode.number}"


def episode_of_care(pathway_id: UUID, territory: str, episode: EpisodeView) -> EpisodeOfCare:
    period: dict[str, str] = {"start": episode.referred_on.isoformat()}
    if episode.closed_on:
        period["end"] = episode.closed_on.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "EpisodeOfCare", "id": episode_id(pathway_id, episode),
        "text": narrative(f"Épisode {episode.number} de gestion de cas ({episode.status}), "
                          f"orienté le {episode.referred_on.isoformat()}"),
        "status": episode.status,
        "type": [{"text": "Gestion de cas (MAIA / DAC)"}],
        "patient": patient_ref(pathway_id), "managingOrganization": _dac(territory),
        "period": period,
    }
    if episode.case_manager:
        resource["careManager"] = _professional(*episode.case_manager)
    return EpisodeOfCare.model_validate(resource)


def care_plans(pathway_id: UUID, episode: EpisodeView) -> list[CarePlan]:
    """One CarePlan per revision of the PSI; a newer revision replaces the one before."""
    plans = []
    latest = episode.plans[-1].plan.revision if episode.plans else None
    for view in episode.plans:
        current = view.plan.revision == latest and episode.status == "active"
        plans.append(_care_plan(pathway_id, episode, view, current))
    return plans


def _plan_id(pathway_id: UUID, episode: EpisodeView, revision: int) -> str:
    return f"{pathway_id}-{episode.number}-psi-{revision}"


def _care_plan(pathway_id: UUID, episode: EpisodeView, view: PlanView,
               current: bool) -> CarePlan:
    plan = view.plan
    activities: list[dict[str, Any]] = []
    for problem in plan.problems:
        for objective in problem.objectives:
            detail_base = {"reasonCode": [{"text": problem.description}],
                           "goal": [{"display": objective.description}],
                           "status": "in-progress" if current else "stopped"}
            if not objective.services:
                activities.append({"detail": {**detail_base,
                                              "description": objective.description}})
            for service in objective.services:
                activities.append({"detail": {
                    **detail_base,
                    "code": {"coding": [{"system": SERVICE_TYPE, "code": service.type}],
                             "text": service.type},
                    "performer": [{"display": service.provider}],
                    "description": f"{service.provider} — {service.frequency}"}})
    resource: dict[str, Any] = {
        "resourceType": "CarePlan", "id": _plan_id(pathway_id, episode, plan.revision),
        "text": narrative(f"PSI, révision {plan.revision}",
                          *(p.description for p in plan.problems)),
        "status": "active" if current else "revoked", "intent": "plan",
        "title": f"PSI — révision {plan.revision}",
        "subject": patient_ref(pathway_id),
        # R4's CarePlan has no episodeOfCare element: the episode is supporting information.
        "supportingInfo": [{"reference": f"EpisodeOfCare/{episode_id(pathway_id, episode)}"}],
        "created": view.recorded_on.isoformat(),
        "author": _professional(view.author.id),
        "addresses": [{"display": p.description} for p in plan.problems],
        "goal": [{"display": o.description} for p in plan.problems for o in p.objectives],
        "activity": activities,
    }
    if plan.summary:
        resource["description"] = plan.summary
    if plan.revision > 1:
        resource["replaces"] = [{"reference": "CarePlan/"
                                 + _plan_id(pathway_id, episode, plan.revision - 1)}]
    if view.validation:
        validation = view.validation
        resource["extension"] = [{"url": PLAN_VALIDATION, "extension": [
            {"url": "validatedBy", "valueString": validation.validated_by},
            {"url": "validatedOn", "valueDate": validation.validated_on.isoformat()}]}]
        resource["note"] = [{"text": f"Validé par {validation.validated_by} le "
                                     f"{validation.validated_on.isoformat()}."}]
    return CarePlan.model_validate(resource)


def care_team(pathway_id: UUID, territory: str, episode: EpisodeView) -> CareTeam:
    """The care circle, shaped like the ANS "Cercle de soins" profile: each membership is one
    participant with its role and period, so a member who left and came back is two."""
    resource: dict[str, Any] = {
        "resourceType": "CareTeam", "id": f"{episode_id(pathway_id, episode)}-cercle",
        "text": narrative("Cercle de soins", *(
            f"{m.member.name} ({_ROLE_LABEL[m.member.role]}) depuis le "
            f"{m.joined_on.isoformat()}" + (f" jusqu'au {m.left_on.isoformat()}"
                                            if m.left_on else "") for m in episode.members)),
        "status": "active" if episode.status == "active" else "inactive",
        "name": "Cercle de soins", "subject": patient_ref(pathway_id),
        "managingOrganization": [_dac(territory)],
        "participant": [_participant(m) for m in episode.members],
    }
    if not resource["participant"]:
        resource.pop("participant")
    return CareTeam.model_validate(resource)


def _participant(membership: MembershipView) -> dict[str, Any]:
    member = membership.member
    period = {"start": membership.joined_on.isoformat()}
    if membership.left_on:
        period["end"] = membership.left_on.isoformat()
    participant: dict[str, Any] = {
        "role": [{"coding": [{"system": CARE_ROLE, "code": member.role,
                              "display": _ROLE_LABEL[member.role]}]}],
        "member": {"identifier": {"system": PROFESSIONAL, "value": member.member_id},
                   "display": member.name},
        "period": period,
    }
    if member.organisation:
        participant["onBehalfOf"] = {"display": member.organisation}
    return participant


def encounters(pathway_id: UUID, episode: EpisodeView) -> list[Encounter]:
    return [_encounter(pathway_id, episode, stay) for stay in episode.stays]


def _encounter(pathway_id: UUID, episode: EpisodeView, stay: StayView) -> Encounter:
    status = "finished" if stay.discharged_at else "in-progress"
    if stay.cancelled:
        status = "cancelled"
    period = {"start": _instant(stay.admitted_at)}
    if stay.discharged_at:
        period["end"] = _instant(stay.discharged_at)
    code, display = ("EMER", "emergency") if stay.kind == "emergency" else ("IMP", "inpatient "
                                                                                   "encounter")
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": f"{episode_id(pathway_id, episode)}-sejour-{stay.number}",
        "text": narrative(f"Séjour à {stay.establishment} ({stay.ward}) depuis le "
                          f"{_instant(stay.admitted_at)}"),
        "status": status, "class": {"system": ACT_CODE, "code": code, "display": display},
        "subject": patient_ref(pathway_id),
        "episodeOfCare": [{"reference": f"EpisodeOfCare/{episode_id(pathway_id, episode)}"}],
        "period": period,
        "serviceProvider": {"display": stay.establishment},
        "location": [{"location": {"display": stay.ward}}],
    }
    if stay.destination:
        disposition, label = _DISPOSITION[stay.destination]
        resource["hospitalization"] = {"dischargeDisposition": {
            "coding": [{"system": DISCHARGE_DISPOSITION, "code": disposition}], "text": label}}
    return Encounter.model_validate(resource)


def flags(pathway_id: UUID, alerts: list[Alert]) -> list[Flag]:
    """The alerts not yet resolved."""
    return [Flag.model_validate({
        "resourceType": "Flag", "id": str(alert.raised.alert_id), "status": "active",
        "text": narrative(f"{alert.raised.rule} : {alert.raised.title}"),
        "category": [{"text": "Rupture de parcours"}],
        "code": {"coding": [{"system": RUPTURE_RULE, "code": alert.raised.rule}],
                 "text": alert.raised.title},
        "subject": patient_ref(pathway_id),
        "period": {"start": _instant(alert.raised.due_at)},
        "author": {"display": "Parcours — règles de rupture"},
    }) for alert in alerts if alert.state != "resolved"]


def bundle(resources: list[Resource], base: str, self_url: str) -> Bundle:
    return Bundle.model_validate({
        "resourceType": "Bundle", "type": "searchset", "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [{"fullUrl": f"{base}/{r.get_resource_type()}/{r.id}",
                   "resource": r.model_dump(mode="json", exclude_none=True),
                   "search": {"mode": "match"}} for r in resources],
    })


def outcome(code: str, severity: str, message: str, parcours_code: str) -> OperationOutcome:
    return OperationOutcome.model_validate({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": message,
                   "details": {"coding": [{"system": f"{PARCOURS}/CodeSystem/error",
                                           "code": parcours_code}], "text": message}}],
    })


_SEARCHED = {"Patient": ["identifier"], "EpisodeOfCare": ["patient"], "CarePlan": ["patient"],
             "CareTeam": ["patient"], "Encounter": ["patient"], "Flag": ["patient"]}


def capability_statement(published: datetime) -> CapabilityStatement:
    resources = []
    for name, params in _SEARCHED.items():
        entry: dict[str, Any] = {
            "type": name, "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": p, "type": "token" if p == "identifier" else "reference"}
                            for p in params]}
        if name == "Patient":
            entry["supportedProfile"] = [PATIENT_INS_PROFILE]
            entry["operation"] = [{"name": "everything", "definition":
                                   "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]
        resources.append(entry)
    return CapabilityStatement.model_validate({
        "resourceType": "CapabilityStatement", "status": "active",
        "text": narrative("Parcours : lecture FHIR R4 du parcours (Patient, EpisodeOfCare, "
                          "CarePlan, CareTeam, Encounter, Flag)"),
        "date": _instant(published), "publisher": "Parcours", "kind": "instance",
        "software": {"name": "Parcours", "version": "0.1.0"},
        "implementation": {"description": "Parcours : lecture FHIR R4 du parcours"},
        "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
        "rest": [{"mode": "server",
                  "security": {"description": "OAuth2 / OIDC : en-tête Authorization, jeton "
                                              "Bearer ; mêmes droits et même audit que l'API "
                                              "Parcours."},
                  "resource": resources}],
    })
