"""Issue 20, item 12 in part: small things a professional notices. An empty waiting list says
so in a sentence, not as a numbered person; the browser finds the tab's icon."""

from playwright.sync_api import Browser, expect

from tests.e2e.web.conftest import sign_in


def test_an_empty_waiting_list_is_a_sentence_not_a_numbered_item(browser: Browser,
                                                                base: str) -> None:
    coordinator = sign_in(browser, base, "coord-demo")
    coordinator.goto("/coordination")
    waiting = coordinator.locator("section[aria-labelledby=attente]")
    expect(waiting.get_by_role("heading")).to_have_text("Liste d'attente (0)")
    expect(waiting.get_by_text("Personne n'attend de place.")).to_be_visible()
    expect(waiting.locator("li")).to_have_count(0)


def test_every_page_has_its_icon(browser: Browser, base: str) -> None:
    page = sign_in(browser, base, "gc-anne")
    page.goto("/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon == "/favicon.ico"
    answer = page.request.get(f"{base}/favicon.ico")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in answer.body()
