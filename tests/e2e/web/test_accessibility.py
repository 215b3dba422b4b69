"""Every screen checked with axe-core in Chromium: no violation of serious or critical impact.
The pages are those of the demo data, for each role."""

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.e2e.web.conftest import sign_in

AXE = Axe()
TABS = ("journal", "evaluations", "psi", "cercle", "sejours", "notes", "alertes", "saisir")


def serious(page: Page) -> list[str]:
    results = AXE.run(page)
    assert results.response["testEngine"]["name"] == "axe-core"  # it did run on the page
    return [f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} élément(s)"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def check(page: Page, path: str, report: dict[str, list[str]]) -> None:
    page.goto(path)
    assert page.title(), f"{path}: no page title"
    report[path] = serious(page)


def test_every_screen_has_no_serious_accessibility_violation(browser: Browser,
                                                             demo_base: str) -> None:
    report: dict[str, list[str]] = {}
    anonymous = browser.new_page(base_url=demo_base)
    check(anonymous, "/connexion", report)
    anonymous.close()

    manager = sign_in(browser, demo_base, "gc-anne")
    check(manager, "/file-active", report)
    link = manager.locator("table a[href^='/dossiers/']").first.get_attribute("href")
    assert link and re.match(r"/dossiers/[0-9a-f-]{36}$", link)
    for tab in TABS:
        check(manager, f"{link}?onglet={tab}", report)
    check(manager, f"{link}?onglet=journal&au=2026-01-01", report)
    check(manager, "/alertes", report)
    check(manager, "/orientation", report)
    check(manager, "/orientations", report)
    check(manager, "/dossiers/00000000-0000-4000-8000-000000000000", report)

    coordinator = sign_in(browser, demo_base, "coord-demo")
    check(coordinator, "/coordination", report)
    check(coordinator, f"/coordination?historique={link.rsplit('/', 1)[1]}", report)

    gp = sign_in(browser, demo_base, "dr-fictif")
    check(gp, "/plans-a-valider", report)
    check(gp, "/orientations", report)
    for path, violations in report.items():
        print(f"axe {path}: {len(violations)} serious/critical")
    failing = {path: v for path, v in report.items() if v}
    assert not failing, failing
