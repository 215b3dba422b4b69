"""/docs and /redoc work on a machine without internet: every asset comes from the platform."""

from playwright.sync_api import Browser, Response, expect


def test_the_api_documentation_loads_everything_from_the_platform(browser: Browser,
                                                                  base: str) -> None:
    page = browser.new_page(base_url=base)
    elsewhere: list[str] = []

    def watch(response: Response) -> None:
        # ReDoc's footer asks for a logo on its CDN; the policy blocks it before it leaves.
        if not response.url.startswith((base, "data:", "blob:")):
            elsewhere.append(response.url)

    page.on("response", watch)
    for path in ("/docs", "/redoc"):
        policy = page.request.get(path).headers["content-security-policy"]
        script = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert "unsafe-inline" not in script and "unsafe-eval" not in script, policy
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Parcours")
    expect(page.locator(".opblock").first).to_be_visible()
    page.goto("/redoc")
    expect(page.locator("h1").first).to_contain_text("Parcours", timeout=15_000)
    assert elsewhere == []
    page.close()
