"""``make screenshots``: a PNG of each screen on the demo data, taken with the same Debian
Chromium as the browser tests, into docs/screenshots/."""

import re
import tempfile
from datetime import date
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from parcours.demo import load_demo
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from tests.e2e.test_walkthrough import serving
from tests.e2e.web.conftest import ARGS, CHROMIUM, sign_in

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def shoot(page: Page, path: str, name: str) -> Path:
    page.goto(path)
    target = OUT / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    print(f"{target.relative_to(OUT.parents[1])}  ←  {path}")
    return target


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parcours-screens-") as tmp:
        data_dir = Path(tmp) / "var"
        journal = Journal(env=Settings(data_dir=data_dir).journal_env())
        load_demo(journal, today=date.today())
        journal.close()
        with serving(data_dir) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=ARGS)
            anonymous = browser.new_page(base_url=base, viewport={"width": 1280, "height": 800})
            shoot(anonymous, "/connexion", "01-connexion")
            manager = sign_in(browser, base, "gc-anne")
            manager.set_viewport_size({"width": 1280, "height": 800})
            shoot(manager, "/file-active", "02-file-active")
            # the person with the most evaluations makes the best picture of a file
            links = manager.locator("table a[href^='/dossiers/']").evaluate_all(
                "links => links.map(a => a.getAttribute('href'))")
            best, most = links[0], -1
            for link in links[:15]:
                manager.goto(f"{link}?onglet=evaluations")
                count = manager.locator("table tbody tr").count()
                if count > most:
                    best, most = link, count
            shoot(manager, f"{best}?onglet=journal", "03-dossier-journal")
            shoot(manager, f"{best}?onglet=evaluations", "04-dossier-evaluations")
            shoot(manager, f"{best}?onglet=psi", "05-dossier-psi")
            shoot(manager, f"{best}?onglet=cercle", "06-dossier-cercle")
            shoot(manager, f"{best}?onglet=saisir", "07-dossier-saisir")
            shoot(manager, "/alertes", "08-alertes")
            shoot(manager, "/orientation", "09-orientation")
            coordinator = sign_in(browser, base, "coord-demo")
            coordinator.set_viewport_size({"width": 1280, "height": 800})
            pathway = re.sub(r"^/dossiers/", "", best)
            shoot(coordinator, "/coordination", "10-coordination")
            shoot(coordinator, f"/coordination?historique={pathway}#historique",
                  "11-historique-acces")
            gp = sign_in(browser, base, "dr-fictif")
            gp.set_viewport_size({"width": 1280, "height": 800})
            shoot(gp, "/plans-a-valider", "12-plans-a-valider")
            shoot(gp, "/orientations", "13-mes-orientations")
            shoot(gp, "/dossiers/00000000-0000-4000-8000-000000000000", "14-page-introuvable")
            browser.close()


if __name__ == "__main__":
    main()
