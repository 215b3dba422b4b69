"""Steps through the pages, as a professional would take them."""

import random
import re
from datetime import date, datetime, timedelta

from playwright.sync_api import Browser, Locator, Page, expect

from services.web.labels import CRITERIA
from shared import fictitious
from shared.events import Referred
from shared.fictitious import TERRITORY


def a_referral(seed: int) -> Referred:
    return fictitious.referral(random.Random(seed))


def form(page: Page, name: "str | re.Pattern[str]") -> Locator:
    return page.get_by_role("form", name=name)


def fill_referral(page: Page, referral: Referred, referred_on: date) -> None:
    person = referral.person
    page.get_by_label("Nom de famille").fill(person.family_name)
    page.get_by_label("Prénoms").fill(person.given_names)
    page.get_by_label("Date de naissance").fill(person.birth_date.isoformat())
    page.get_by_label("Sexe").select_option(person.sex)
    page.get_by_label("INS (matricule INS)").fill(person.ins)
    page.get_by_label("Commune de résidence").fill(person.commune)
    page.get_by_label("Médecin traitant").fill("Dr Fictif")
    for code, text in CRITERIA.items():
        page.get_by_label(f"{text} : critère rempli", exact=True).check()
        page.get_by_label(f"Justification — {text}").fill(
            getattr(referral.criteria, code).justification)
    page.get_by_label("Date du consentement").fill(referred_on.isoformat())
    page.get_by_label("Consentement donné par").fill("la personne")
    page.get_by_label("Profession").fill("médecin généraliste")
    page.get_by_label("Structure").fill("Cabinet fictif")
    page.get_by_label("Téléphone ou courriel").fill("cabinet@example.invalid")
    page.get_by_label("Territoire (code du DAC)").fill(TERRITORY)
    page.get_by_label("Date de l'orientation").fill(referred_on.isoformat())


def paris_minutes(moment: datetime) -> str:
    """A value for ``<input type=datetime-local>``."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def days_ago(days: int) -> date:
    return date.today() - timedelta(days=days)


def refer_and_admit(browser: Browser, base: str, referral: Referred, manager: str) -> None:
    """The GP refers through the form, the coordinator admits to a manager."""
    from tests.e2e.web.conftest import sign_in

    gp = sign_in(browser, base, "dr-fictif")
    gp.goto("/orientation")
    fill_referral(gp, referral, days_ago(5))
    gp.get_by_role("button", name="Envoyer la fiche d'orientation").click()
    expect(gp.get_by_role("status")).to_contain_text("Orientation reçue")
    coordinator = sign_in(browser, base, "coord-demo")
    admit = coordinator.get_by_role(
        "form", name=re.compile(f"Admettre .*{referral.person.family_name}", re.I))
    admit.get_by_label("Gestionnaire de cas").select_option(manager)
    admit.get_by_role("button", name="Admettre").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Admission enregistrée")
    gp.context.close()
    coordinator.context.close()
