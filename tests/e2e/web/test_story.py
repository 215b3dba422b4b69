"""The main story through the pages only, in a real Chromium: a GP refers, the coordinator
admits, the case manager evaluates and writes a PSI, the GP validates it, a hospitalisation
raises R1 live on an already open Alertes page, then discharge, letter and closure; the
timeline shows every fact in order."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from tests.e2e.web.conftest import sign_in
from tests.e2e.web.pages import a_referral, days_ago, fill_referral, form, paris_minutes

PARIS = ZoneInfo("Europe/Paris")


def open_file(page: Page, family_name: str) -> str:
    page.goto("/file-active")
    page.get_by_role("link", name=re.compile(family_name, re.I)).click()
    page.wait_for_url(re.compile(r"/dossiers/"))
    return page.url.split("/dossiers/")[1].split("?")[0]


def test_from_referral_to_closure_through_the_pages(browser: Browser, base: str) -> None:
    referral = a_referral(101)
    family = referral.person.family_name

    gp = sign_in(browser, base, "dr-fictif")
    gp.goto("/orientation")
    expect(gp).to_have_title(re.compile("Orienter une personne"))
    fill_referral(gp, referral, days_ago(20))
    gp.get_by_role("button", name="Envoyer la fiche d'orientation").click()
    expect(gp.get_by_role("status")).to_contain_text("Orientation reçue")
    expect(gp.get_by_role("row", name=re.compile(family, re.I))).to_contain_text(
        "en attente de décision")

    coordinator = sign_in(browser, base, "coord-demo")
    decision = coordinator.get_by_role("form", name=re.compile(f"Admettre .*{family}", re.I))
    decision.get_by_label("Date de la décision").fill(days_ago(18).isoformat())
    decision.get_by_label("Gestionnaire de cas").select_option("gc-anne")
    decision.get_by_role("button", name="Admettre").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Admission enregistrée")

    manager = sign_in(browser, base, "gc-anne")
    expect(manager).to_have_title(re.compile("Ma file active"))
    pathway_id = open_file(manager, family)
    manager.get_by_role("link", name="Saisir").click()

    evaluation = form(manager, "Évaluation")
    evaluation.get_by_label("Type d'évaluation").select_option("initial")
    evaluation.get_by_label("Date de l'évaluation").fill(days_ago(15).isoformat())
    for select in evaluation.locator("select[name$='.risk']").all():
        select.select_option("moderate")
    evaluation.get_by_label("ADL-H (0 à 6)").fill("3")
    evaluation.get_by_label("CPS (0 à 6)").fill("2")
    evaluation.get_by_label("CHESS (0 à 5)").fill("1")
    evaluation.get_by_label("MAPLe (1 à 5)").fill("4")
    evaluation.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(manager.get_by_role("status")).to_contain_text("Évaluation enregistrée")

    plan = form(manager, re.compile("Révision du PSI"))
    plan.get_by_label("Problème").fill("Chutes à répétition")
    plan.get_by_label("Objectif").fill("Sécuriser le domicile")
    plan.get_by_label("Service").select_option("saad")
    plan.get_by_label("Prestataire").fill("SAAD fictif")
    plan.get_by_label("Fréquence").fill("2 passages par jour")
    plan.get_by_role("button", name="Enregistrer la révision").click()
    expect(manager.get_by_role("status")).to_contain_text("Nouvelle révision du PSI")

    circle = form(manager, re.compile("entrée d'un intervenant"))
    circle.get_by_label("Identifiant de l'intervenant").fill("dr-fictif")
    circle.get_by_label(re.compile(r"^Nom\b")).fill("Dr Fictif")
    circle.get_by_label("Rôle").select_option("attending_gp")
    circle.get_by_label("Contact").fill("cabinet@example.invalid")
    circle.get_by_label("Date d'entrée").fill(days_ago(14).isoformat())
    circle.get_by_role("button", name="Ajouter au cercle de soins").click()
    expect(manager.get_by_role("status")).to_contain_text("ajouté au cercle de soins")

    gp.goto("/plans-a-valider")
    expect(gp.get_by_role("heading", name=re.compile(f"{family}.*PSI n° 1", re.I))).to_be_visible()
    gp.get_by_role("button", name="Valider le PSI").click()
    expect(gp.get_by_role("status")).to_contain_text("PSI validé")

    # A second context of the case manager, already open on Alertes before the stay.
    watcher = sign_in(browser, base, "gc-anne")
    watcher.goto("/alertes")
    expect(watcher.locator("#liste-alertes")).not_to_contain_text("R1")

    manager.get_by_role("link", name="Saisir").click()
    admitted = datetime.now(PARIS) - timedelta(hours=2)
    stay = form(manager, "Hospitalisation")
    stay.get_by_label("Établissement").fill("CH Fictif")
    stay.get_by_label(re.compile(r"^Service\b")).fill("Médecine gériatrique")
    stay.get_by_label("Date et heure d'entrée").fill(paris_minutes(admitted))
    stay.get_by_label("Type de séjour").select_option("emergency")
    stay.get_by_role("button", name="Enregistrer l'hospitalisation").click()
    expect(manager.get_by_role("status")).to_contain_text("Hospitalisation enregistrée")

    fresh = watcher.locator("li.alert.fresh", has_text="R1")
    expect(fresh).to_be_visible(timeout=2000)  # no reload: the stream brought it
    fresh.get_by_role("button", name="Prendre en compte").click()
    expect(watcher.get_by_role("status").first).to_contain_text("Alerte prise en compte")
    # R1 only tells that something happened: taking it in hand ends it.
    expect(watcher.locator("li.alert", has_text="R1")).to_have_count(0)

    manager.get_by_role("link", name="Saisir").click()
    out = form(manager, "Sortie d'hospitalisation")
    out.get_by_label("Date et heure de sortie").fill(
        paris_minutes(datetime.now(PARIS) - timedelta(hours=1)))
    out.get_by_label("Destination").select_option("home")
    out.get_by_role("button", name="Enregistrer la sortie").click()
    expect(manager.get_by_role("status")).to_contain_text("Sortie d'hospitalisation")

    # R2 (the discharge) and R7 (no discharge letter: the test server fires it at once,
    # PARCOURS_RULE_R7_DAYS=0) arrive on the page already open.
    expect(watcher.locator("li.alert", has_text="R7")).to_be_visible(timeout=5000)
    expect(watcher.locator("li.alert", has_text="R2")).to_be_visible(timeout=5000)
    watcher.goto("/alertes")
    r2 = watcher.locator("li.alert", has_text="R2")
    r2.get_by_role("button", name="Résoudre").click()  # a resolution says how
    expect(watcher.locator("li.alert", has_text="R2").locator(".field-error")).to_contain_text(
        "Dites comment")
    r2 = watcher.locator("li.alert", has_text="R2")
    r2.get_by_label("Commentaire de résolution").fill("Interventions reprises, SSIAD prévenu")
    r2.get_by_role("button", name="Résoudre").click()
    expect(watcher.get_by_role("status").first).to_contain_text("Alerte résolue")
    expect(watcher.locator("li.alert", has_text="R2")).to_have_count(0)

    manager.get_by_role("link", name="Saisir").click()
    letter = form(manager, "Lettre de liaison reçue")
    letter.get_by_role("button", name="Enregistrer la lettre").click()
    expect(manager.get_by_role("status")).to_contain_text("Lettre de liaison enregistrée")
    # The letter clears R7 by itself: nobody resolves it.
    watcher.goto("/alertes")
    expect(watcher.locator("li.alert", has_text="R7")).to_have_count(0)

    manager.get_by_role("link", name="Saisir").click()
    closure = form(manager, "Clôture de l'accompagnement")
    closure.get_by_label("Motif").select_option("establishment")
    closure.get_by_role("button", name="Clore le dossier").click()
    expect(manager.get_by_role("status")).to_contain_text("Dossier clos")

    manager.goto(f"/dossiers/{pathway_id}?onglet=journal")
    facts = [t for t in manager.locator("ol.timeline li .what strong").all_inner_texts()
             if not t.startswith("Alerte")]
    assert facts == ["Orientation reçue", "Admission décidée", "Gestionnaire désigné",
                     "Évaluation", "Révision du PSI", "Entrée dans le cercle de soins",
                     "PSI validé", "Hospitalisation", "Sortie d'hospitalisation",
                     "Lettre de liaison reçue", "Clôture"]

    # "Voir le dossier au …": the day before, nothing had been recorded yet.
    manager.get_by_label("Voir le dossier au").fill(days_ago(1).isoformat())
    manager.get_by_role("button", name="Afficher").click()
    expect(manager.get_by_role("status")).to_contain_text("n'existait pas encore")
    manager.goto(f"/dossiers/{pathway_id}?onglet=journal&au={days_ago(0).isoformat()}")
    expect(manager.get_by_role("status")).to_contain_text("tel qu'il était enregistré")
    assert manager.locator("ol.timeline li").count() >= len(facts)
    expect(manager.get_by_role("link", name="Saisir")).to_have_count(0)  # read-only
    for page in (gp, coordinator, manager, watcher):
        page.context.close()
