"""A real ``parcours serve`` (embedded) and Debian's Chromium driven by Playwright. No browser
build is ever downloaded: the tests use /usr/bin/chromium, which ``make test`` installs."""

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from shared.domain.commands import Meta
from shared.events import Actor
from shared.fictitious import TERRITORY
from shared.journal.application import Journal
from shared.runtime.settings import Settings
from tests.e2e.test_walkthrough import serving

CHROMIUM = os.environ.get("PARCOURS_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
MANAGERS = {"gc-anne": "Anne Fictif", "gc-bruno": "Bruno Exemple"}



def prepared(data_dir: Path) -> Path:
    """The territory's case managers, as an administrator would have registered them."""
    journal = Journal(env=Settings(data_dir=data_dir).journal_env())
    meta = Meta(actor=Actor(id="admin-demo", role="administrator"))
    for manager_id, name in MANAGERS.items():
        journal.register_manager(TERRITORY, manager_id, name, 35, meta)
    journal.close()
    return data_dir


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = prepared(tmp_path_factory.mktemp("web") / "var")
    with serving(data_dir, PARCOURS_SCHEDULER_INTERVAL_S="0.2",
                 PARCOURS_NOTIFICATIONS_SSE_POLL_S="0.2",
                 PARCOURS_NOTIFICATIONS_DISPATCH_INTERVAL_S="0.2",
                 PARCOURS_RULE_R7_DAYS="0") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: install the Debian package `chromium` "
                    "(make test does it when run as root), or set PARCOURS_CHROMIUM")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=ARGS)
        yield chromium
        chromium.close()


def sign_in(browser: Browser, base: str, user_id: str) -> Page:
    """A new browser context (its own cookies) signed in as one of the demo users."""
    context = browser.new_context(base_url=base, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/connexion")
    page.locator(f"#user-{user_id}").check()
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)
    return page


def today() -> date:
    return date.today()


@pytest.fixture(scope="module")
def demo_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on the demo's data (as ``make run`` shows it)."""
    from parcours.demo import load_demo

    data_dir = tmp_path_factory.mktemp("demo") / "var"
    journal = Journal(env=Settings(data_dir=data_dir).journal_env())
    load_demo(journal, today=date.today())
    journal.close()
    with serving(data_dir, PARCOURS_SCHEDULER_INTERVAL_S="0.5") as url:
        yield url
