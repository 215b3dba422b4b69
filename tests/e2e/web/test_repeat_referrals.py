"""Issue 19, finding 9, through the pages: a GP refers a person the DAC already follows, and
once more with other identity traits for the same INS. The GP sees « Orientation reçue » and
the referral in Mes orientations as for anyone, and nothing of the file; the coordinator finds
both in the commission, flagged « Déjà suivi » and « Identité à vérifier », and resolves them.
Screenshots of the commission at 1366 and 390 px wide go to ``PARCOURS_TEST_SHOTS`` (a
temporary folder otherwise)."""

import os
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.web.conftest import sign_in
from tests.e2e.web.pages import a_referral, days_ago, fill_referral

UUID_TEXT = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PARCOURS_TEST_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _refer(page: Page, family_name: str, given_names: str = "Odette") -> None:
    referral = a_referral(1919)
    person = referral.person.model_copy(update={"family_name": family_name,
                                                "given_names": given_names})
    page.goto("/orientation")
    fill_referral(page, referral.model_copy(update={"person": person}), days_ago(3))
    page.get_by_role("button", name="Envoyer la fiche d'orientation").click()
    expect(page.get_by_role("status")).to_contain_text("Orientation reçue")


def test_the_coordinator_resolves_what_the_gp_is_not_told(browser: Browser, base: str,
                                                          tmp_path: Path) -> None:
    coordinator = sign_in(browser, base, "coord-demo")
    _refer(coordinator, "Doublonnet")  # the DAC's own referral: the person is followed
    coordinator.goto("/coordination")
    admit = coordinator.get_by_role("form", name=re.compile("Admettre .*DOUBLONNET", re.I))
    admit.get_by_label("Gestionnaire de cas").select_option("gc-anne")
    admit.get_by_role("button", name="Admettre").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Admission enregistrée")

    gp = sign_in(browser, base, "dr-fictif")
    _refer(gp, "Doublonnet")
    _refer(gp, "Doublonneau", "Odile")  # the same INS, another person's name maybe
    rows = gp.get_by_role("row", name=re.compile("DOUBLONNE", re.I))
    expect(rows).to_have_count(2)
    for row in (rows.nth(0), rows.nth(1)):
        expect(row).to_contain_text("reçue, en attente de décision")
        assert "admis" not in row.inner_text().lower()  # not the DAC's own episode
    main = gp.locator("main").inner_html()
    assert "/dossiers/" not in main and not re.search(UUID_TEXT, main)  # no pathway named

    coordinator.goto("/coordination#repetees")
    already = coordinator.get_by_role("article").filter(has_text="Déjà suivi")
    differs = coordinator.get_by_role("article").filter(has_text="Identité à vérifier")
    expect(already).to_have_count(1)
    expect(already).to_contain_text("Dr Fictif")
    expect(differs).to_have_count(1)
    expect(differs.get_by_role("row", name=re.compile("Nom de famille"))).to_contain_text(
        "Doublonneau")
    shots = _shots(tmp_path)
    for width, height in ((1366, 900), (390, 844)):
        coordinator.set_viewport_size({"width": width, "height": height})
        coordinator.locator("#repetees").scroll_into_view_if_needed()
        coordinator.screenshot(path=str(shots / f"commission-repetees-{width}.png"),
                               full_page=True)
        wider = coordinator.evaluate("""width => [...document.querySelectorAll(
            '#repetees ~ article, #repetees ~ article *')].filter(
            e => e.getBoundingClientRect().right > width + 1).map(e => e.tagName)""", width)
        assert wider == [], wider  # the cards reflow: nothing wider than the screen
    coordinator.set_viewport_size({"width": 1366, "height": 900})

    file_link = already.get_by_role("link", name=re.compile("Ouvrir le dossier")).get_attribute(
        "href")
    assert file_link
    resolve = already.get_by_role("form", name=re.compile("Traiter l'orientation"))
    resolve.get_by_label("Commentaire").fill("Même personne : le médecin rejoint le suivi.")
    resolve.get_by_role("button", name="Rattacher au parcours en cours").click()
    expect(coordinator.get_by_role("status")).to_contain_text("rattachée au parcours en cours")
    differs = coordinator.get_by_role("article").filter(has_text="Identité à vérifier")
    differs.get_by_role("button", name="Décliner").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Orientation déclinée")
    expect(coordinator.get_by_role("article").filter(has_text="DOUBLONNE")).to_have_count(0)
    coordinator.goto(f"{file_link}?onglet=journal")  # the coordination's journal keeps them
    timeline = coordinator.locator("ol.timeline")
    expect(timeline).to_contain_text("Orientation reçue pour une personne connue : déjà suivi")
    expect(timeline).to_contain_text("rattachée au parcours en cours — Même personne")
    anne = sign_in(browser, base, "gc-anne")  # the case manager's journal does not
    anne.goto(f"{file_link}?onglet=journal")
    expect(anne.locator("ol.timeline")).not_to_contain_text("personne connue")
    assert "Doublonneau" not in anne.content()
    anne.context.close()

    gp.goto("/orientations")
    rows = gp.get_by_role("row", name=re.compile("DOUBLONNE", re.I))
    expect(rows.filter(has_text="DOUBLONNET")).to_contain_text(
        "rattachée à l'accompagnement en cours")
    expect(rows.filter(has_text="DOUBLONNEAU")).to_contain_text("déclinée par la coordination")
    gp.screenshot(path=str(shots / "mes-orientations-1366.png"), full_page=True)
    gp.context.close()
    coordinator.context.close()
