"""The forms as people meet them: the referral completed with the keyboard only, mistakes
shown next to their field with nothing stored, and a file outside one's rights."""

import re
import urllib.request
from datetime import date

from playwright.sync_api import Browser, Page, expect

from services.web.labels import CRITERIA
from tests.e2e.web.conftest import sign_in
from tests.e2e.web.pages import a_referral, days_ago, fill_referral, refer_and_admit


def type_into(page: Page, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Tab")


def type_date(page: Page, day: date) -> None:
    """A date input has segments (day, month, year) that Tab walks through: type the date,
    then Tab until the focus leaves the input. Chromium orders the segments by its own
    interface language (month first here), not by the page's."""
    field = page.evaluate("document.activeElement.id")
    page.keyboard.type(day.strftime("%m%d%Y"))
    for _ in range(4):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") != field:
            return
    raise AssertionError(f"Tab does not leave {field}")


def test_the_referral_form_with_the_keyboard_only(browser: Browser, base: str) -> None:
    referral = a_referral(202)
    person = referral.person
    page = sign_in(browser, base, "dr-fictif")
    page.goto("/orientation")
    page.locator("body").focus()
    # From the top of the page, Tab until the first field has the focus.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "orientation-person-family_name":
            break
    else:
        raise AssertionError("the first field is not reachable with Tab")
    type_into(page, person.family_name)
    type_into(page, person.given_names)
    type_date(page, person.birth_date)
    page.keyboard.type({"F": "f", "M": "h", "X": "a"}[person.sex])  # select by first letter
    page.keyboard.press("Tab")
    type_into(page, person.ins)
    type_into(page, person.commune)
    type_into(page, "Dr Fictif")
    page.keyboard.press("Tab")  # the neuro-evolutive disease box stays unticked
    for code in CRITERIA:
        page.keyboard.press("Space")  # tick "critère rempli"
        page.keyboard.press("Tab")
        type_into(page, getattr(referral.criteria, code).justification)
    type_date(page, days_ago(3))
    type_into(page, "la personne")
    type_into(page, "médecin généraliste")
    type_into(page, "Cabinet fictif")
    type_into(page, "cabinet@example.invalid")
    type_into(page, "dac-val-fictif")
    type_date(page, days_ago(1))
    page.keyboard.press("Tab")  # context: left empty
    assert page.evaluate("document.activeElement.textContent").strip() == \
        "Envoyer la fiche d'orientation"
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Orientation reçue")
    expect(page.get_by_role("row", name=re.compile(person.family_name, re.I))).to_be_visible()
    page.context.close()


def test_mistakes_are_shown_next_to_their_field_and_nothing_is_stored(browser: Browser,
                                                                      base: str) -> None:
    referral = a_referral(303)
    page = sign_in(browser, base, "dr-fictif")
    page.goto("/orientations")
    before = page.locator("tbody tr").count()
    page.goto("/orientation")
    fill_referral(page, referral, days_ago(2))
    page.get_by_label("INS (matricule INS)").fill("123")
    page.get_by_label("Nom de famille").fill("")
    page.get_by_label("Date de naissance").fill("")
    page.get_by_role("button", name="Envoyer la fiche d'orientation").click()

    for field_id, message in (("orientation-person-ins", "INS invalide"),
                              ("orientation-person-family_name", "obligatoire"),
                              ("orientation-person-birth_date", "obligatoire")):
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{field_id}-erreur")
        expect(error).to_contain_text(message)
        # next to the field: in the same block, and the field points at it
        assert field_id + "-erreur" in (field.get_attribute("aria-describedby") or "")
        assert error.locator("xpath=..").locator(f"#{field_id}").count() == 1
    # what was typed is kept
    expect(page.get_by_label("Commune de résidence")).to_have_value(referral.person.commune)
    page.goto("/orientations")
    assert page.locator("tbody tr").count() == before
    page.context.close()


def test_a_file_outside_ones_rights_is_a_french_404_and_recorded(browser: Browser,
                                                                 base: str) -> None:
    referral = a_referral(404)
    gp = sign_in(browser, base, "dr-fictif")
    gp.goto("/orientation")
    fill_referral(gp, referral, days_ago(5))
    gp.get_by_role("button", name="Envoyer la fiche d'orientation").click()
    expect(gp.get_by_role("status")).to_contain_text("Orientation reçue")

    coordinator = sign_in(browser, base, "coord-demo")
    admit = coordinator.get_by_role(
        "form", name=re.compile(f"Admettre .*{referral.person.family_name}", re.I))
    admit.get_by_label("Gestionnaire de cas").select_option("gc-anne")
    admit.get_by_role("button", name="Admettre").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Admission enregistrée")

    anne = sign_in(browser, base, "gc-anne")
    anne.goto("/file-active")
    anne.get_by_role("link", name=re.compile(referral.person.family_name, re.I)).click()
    pathway_id = anne.url.split("/dossiers/")[1].split("?")[0]

    bruno = sign_in(browser, base, "gc-bruno")
    answer = bruno.goto(f"/dossiers/{pathway_id}")
    assert answer is not None and answer.status == 404
    expect(bruno).to_have_title(re.compile("Page introuvable"))
    expect(bruno.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert referral.person.family_name.lower() not in bruno.content().lower()
    # and no stack trace, even for a malformed address
    answer = bruno.goto("/dossiers/pas-un-identifiant")
    assert answer is not None and answer.status == 404
    assert "Traceback" not in bruno.content()

    coordinator.goto(f"/coordination?historique={pathway_id}#historique")
    history = coordinator.get_by_role("table", name=re.compile("Accès au dossier"))
    expect(history.get_by_role("row", name=re.compile("gc-bruno.*refusé"))).to_be_visible()
    expect(history.get_by_role("row", name=re.compile("gc-anne.*autorisé")).first).to_be_visible()
    for page in (gp, coordinator, anne, bruno):
        page.context.close()


def test_sessions_are_signed_httponly_strict_and_forms_need_their_token(browser: Browser,
                                                                        base: str) -> None:
    page = sign_in(browser, base, "gc-anne")
    cookie = next(c for c in page.context.cookies() if c["name"] == "parcours_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # A form posted without the session's CSRF token is refused and stores nothing.
    status = page.evaluate("""async () => {
        const r = await fetch('/orientation', {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'person.family_name=X'});
        return r.status; }""")
    assert status == 403
    # A tampered cookie is no session.
    page.context.add_cookies([{**cookie, "value": cookie["value"][:-2] + "00"}])
    page.goto("/file-active")
    expect(page).to_have_url(re.compile("/connexion"))
    with urllib.request.urlopen(f"{base}/connexion") as answer:
        csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    page.context.close()


def test_a_rule_of_the_practice_is_a_banner_and_nothing_is_stored(browser: Browser,
                                                                  base: str) -> None:
    referral = a_referral(505)
    refer_and_admit(browser, base, referral, "gc-bruno")
    bruno = sign_in(browser, base, "gc-bruno")
    bruno.goto("/file-active")
    bruno.get_by_role("link", name=re.compile(referral.person.family_name, re.I)).click()
    file_url = bruno.url.split("?")[0]
    facts = bruno.locator("ol.timeline li").count()
    bruno.goto(f"{file_url}?onglet=saisir")
    out = bruno.get_by_role("form", name="Sortie d'hospitalisation")
    out.get_by_label("Date et heure de sortie").fill(days_ago(1).isoformat() + "T10:00")
    out.get_by_label("Destination").select_option("home")
    with bruno.expect_response(lambda r: r.request.method == "POST") as posted:
        out.get_by_role("button", name="Enregistrer la sortie").click()
    assert posted.value.status == 409
    banner = bruno.get_by_role("alert")
    expect(banner).to_contain_text("règle de la pratique")
    expect(banner).to_contain_text("Rien n'a été enregistré")
    bruno.goto(f"{file_url}?onglet=journal")
    assert bruno.locator("ol.timeline li").count() == facts
    bruno.context.close()


def test_sign_out_and_pages_outside_ones_role(browser: Browser, base: str) -> None:
    gp = sign_in(browser, base, "dr-fictif")
    answer = gp.goto("/file-active")
    assert answer is not None and answer.status == 403
    expect(gp.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    gp.get_by_role("button", name="Se déconnecter").click()
    expect(gp.get_by_role("status")).to_contain_text("déconnecté")
    gp.goto("/orientations")
    expect(gp).to_have_url(re.compile("/connexion"))
    gp.context.close()


def test_the_caseload_filters_without_reloading_the_page(browser: Browser, base: str) -> None:
    anne = sign_in(browser, base, "gc-anne")
    anne.goto("/file-active")
    anne.evaluate("window.notReloaded = true")
    anne.get_by_label("Afficher").select_option("hopital")
    anne.get_by_role("button", name="Appliquer").click()
    expect(anne).to_have_url(re.compile("filtre=hopital"))
    expect(anne.locator("tbody")).to_contain_text("Aucune personne")
    assert anne.evaluate("window.notReloaded") is True  # htmx swapped the content only
    anne.context.close()


def test_a_form_sent_twice_is_recorded_once(browser: Browser, base: str) -> None:
    """A double click, or the form sent again after a lost answer, records one note; the
    same form with other content is another note."""
    referral = a_referral(909)  # a family name no other test refers
    refer_and_admit(browser, base, referral, "gc-bruno")
    bruno = sign_in(browser, base, "gc-bruno")
    bruno.goto("/file-active")
    bruno.get_by_role("link", name=re.compile(referral.person.family_name, re.I)).click()
    file_url = bruno.url.split("?")[0]
    bruno.goto(f"{file_url}?onglet=journal")
    facts = bruno.locator("ol.timeline li").count()
    bruno.goto(f"{file_url}?onglet=saisir")
    note = bruno.get_by_role("form", name="Note de suivi")
    note.get_by_label("Type de contact").select_option("phone")
    note.get_by_label("Avec").select_option("family")
    note.get_by_label("Contenu").fill("Appel à la fille : retour à domicile prévu.")
    statuses = bruno.evaluate("""async () => {
        const form = [...document.forms].find(f => f.action.endsWith('/note'));
        const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)});
        const answers = await Promise.all([send(), send()]);  // sent twice at once
        const again = await send();  // and once more, afterwards
        form.querySelector('textarea').value = 'Rappel : la fille confirme.';
        const other = await send();  // the same form, other content: another note
        return [...answers, again, other].map(r => r.status); }""")
    assert statuses == [200, 200, 200, 200], statuses  # each followed its 303 to the file
    bruno.goto(f"{file_url}?onglet=journal")
    expect(bruno.locator("ol.timeline li")).to_have_count(facts + 2)
    expect(bruno.locator("ol.timeline li", has_text="Note de suivi")).to_have_count(2)
    bruno.context.close()
