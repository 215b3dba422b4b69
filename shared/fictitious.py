"""Clearly fictitious people and professionals for tests, demos and benchmarks.

No real personal data anywhere: names come from a small made-up list, INS numbers are
generated with a valid key in a department range nobody is born in (99)."""

import random
from datetime import UTC, date, datetime, timedelta
from uuid import NAMESPACE_URL, uuid5

from shared import events as ev
from shared.domain import ins
from shared.domain.principal import Principal
from shared.events import values

FAMILY_NAMES = ["Fictif", "Exemple", "Modèle", "Témoin", "Essai", "Maquette", "Prototype"]
GIVEN_NAMES = ["Alice", "Bernard", "Colette", "Denis", "Eugénie", "Fernand", "Ginette", "Henri"]
TERRITORY = "dac-val-fictif"
COMMUNES = ["Villefictive", "Saint-Exemple", "Bourg-Témoin", "Val-d'Essai"]


def fictitious_ins(rng: random.Random) -> str:
    sex = rng.choice("12")
    year = rng.randint(20, 55)
    month = rng.randint(1, 12)
    first_13 = f"{sex}{year:02d}{month:02d}99{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    return ins.with_key(first_13)


def professional(rng: random.Random, profession: str = "médecin traitant") -> values.Professional:
    n = rng.randint(1, 999)
    return values.Professional(
        id=f"pro-{n:03d}",
        name=f"Dr {rng.choice(FAMILY_NAMES)} {n}",
        profession=profession,
        organisation="Cabinet fictif",
        contact=f"pro{n}@exemple.invalid",
    )


def _criterion(met: bool = True) -> values.Criterion:
    return values.Criterion(met=met, justification="Situation décrite par l'orienteur (fictive).")


def referral(rng: random.Random | None = None, referred_on: date | None = None) -> ev.Referred:
    rng = rng or random.Random()
    referred_on = referred_on or date(2026, 1, 15)
    return ev.Referred(
        referred_on=referred_on,
        territory=TERRITORY,
        referrer=professional(rng),
        person=values.Person(
            ins=fictitious_ins(rng),
            family_name=rng.choice(FAMILY_NAMES),
            given_names=rng.choice(GIVEN_NAMES),
            birth_date=date(rng.randint(1925, 1955), rng.randint(1, 12), rng.randint(1, 28)),
            sex=rng.choice(["F", "M"]),
            commune=rng.choice(COMMUNES),
        ),
        criteria=values.NationalCriteria(
            c1a_functional_autonomy=_criterion(),
            c1b_medical=_criterion(),
            c1c_decisional_autonomy=_criterion(),
            c2_help_insufficient=_criterion(),
            c3_no_resource_person=_criterion(),
        ),
        consent=values.Consent(given_on=referred_on, given_by="la personne"),
    )


def admission(decided_on: date | None = None) -> ev.Admitted:
    return ev.Admitted(decided_on=decided_on or date(2026, 1, 20))


def assignment(case_manager_id: str = "gc-1") -> ev.CaseManagerAssigned:
    return ev.CaseManagerAssigned(
        case_manager_id=case_manager_id, case_manager_name=f"Gestionnaire {case_manager_id}"
    )


def finding(risk: values.RiskLevel = "moderate") -> values.Finding:
    return values.Finding(needs=["aide à la toilette"], risk=risk)


def evaluation(kind: ev.payloads.EvaluationKind = "initial") -> ev.Evaluated:
    return ev.Evaluated(
        kind=kind,
        evaluated_on=date(2026, 2, 1),
        domains=values.Domains(
            health=finding("high"),
            functional_autonomy=finding(),
            human_environment=finding(),
            material_environment=finding("low"),
            economic_administrative=finding("low"),
        ),
        scales=values.Scales(adl_hierarchy=3, cps=2, chess=1, maple=4),
    )


def plan(revision: int = 1) -> ev.PlanRevised:
    return ev.PlanRevised(
        revision=revision,
        problems=[
            values.Problem(
                description="Chutes répétées",
                objectives=[
                    values.Objective(
                        description="Sécuriser les transferts",
                        services=[
                            values.PlannedService(
                                type="physiotherapy", provider="Kiné fictif", frequency="2/semaine"
                            )
                        ],
                    )
                ],
            )
        ],
        revised_on=date(2026, 2, 1),
    )


def stay(admitted_at: datetime | None = None) -> ev.Hospitalised:
    return ev.Hospitalised(
        establishment="CH de Villefictive",
        ward="Gériatrie",
        admitted_at=admitted_at or datetime(2026, 3, 1, 10, tzinfo=UTC),
        kind="emergency",
        reason="Chute",
    )


def discharge(discharged_at: datetime | None = None) -> ev.Discharged:
    return ev.Discharged(
        discharged_at=discharged_at or datetime(2026, 3, 1, 10, tzinfo=UTC) + timedelta(days=6),
        destination="home",
        discharge_letter_received=False,
    )


def closure() -> ev.Closed:
    return ev.Closed(closed_on=date(2026, 6, 30), reason_code="moved_out")


def member(member_id: str = "gp-1", role: values.CareRole = "attending_gp") -> ev.MemberJoined:
    return ev.MemberJoined(
        member=values.CareCircleMember(
            member_id=member_id, name=f"Dr {member_id.upper()} Fictif", role=role,
            organisation="Cabinet fictif", contact=f"{member_id}@exemple.invalid",
        ),
        joined_on=date(2026, 1, 25),
    )


def note() -> ev.FollowUpNoted:
    return ev.FollowUpNoted(kind="visit", with_whom="person", contact_on=date(2026, 2, 10),
                            summary="Visite à domicile, situation stable (fictif).")


def dysfunction() -> ev.DysfunctionReported:
    return ev.DysfunctionReported(category="missing_resource", territory=TERRITORY,
                                  reported_on=date(2026, 2, 15),
                                  description="Pas de SSIAD disponible sur la commune (fictif).")


def alert(rule: ev.payloads.RuleCode = "R1", key: str = "R1:stay-1") -> ev.AlertRaised:
    return ev.AlertRaised(
        alert_id=uuid5(NAMESPACE_URL, key), dedup_key=key, rule=rule, severity="warning",
        title="Hospitalisation", message="La personne est hospitalisée (fictif).",
        recipients=[values.Recipient(professional_id="gc-1", name="Gestionnaire gc-1",
                                     role="case_manager")],
        due_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
    )


def fictitious_ins_for(rng: random.Random, sex: str, birth_date: date) -> str:
    """An INS in the same fictitious department (99) whose sex, year and month agree with the
    person's, so that a demo file reads like a real one without being anyone's."""
    digit = "1" if sex == "M" else "2"
    first_13 = (f"{digit}{birth_date.year % 100:02d}{birth_date.month:02d}99"
                f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}")
    return ins.with_key(first_13)


# The demo's users, for the development set-up's sign-in (never a real identity).
DEMO_USERS = {
    user.id: user
    for user in (
        Principal("coord-demo", "Coordination Val-Fictif", "coordinator", TERRITORY),
        Principal("gc-anne", "Anne Fictif", "case_manager", TERRITORY),
        Principal("gc-bruno", "Bruno Exemple", "case_manager", TERRITORY),
        Principal("gc-claire", "Claire Modèle", "case_manager", TERRITORY),
        Principal("gc-david", "David Témoin", "case_manager", TERRITORY),
        Principal("gc-essai", "Gaëlle Essai (parcours d'essai du README)", "case_manager",
                  TERRITORY),
        Principal("dr-fictif", "Dr Fictif (médecin orienteur)", "referrer", None),
        Principal("analyste-demo", "Analyste des indicateurs", "analyst", None),
        Principal("admin-demo", "Administration du DAC", "administrator", TERRITORY),
    )
}
