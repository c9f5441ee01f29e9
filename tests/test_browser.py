"""End to end in a real browser: log in, land in JupyterLab, see the labdeck sidebar.

Debian chromium driven by Playwright (Playwright's own browser download does not work
here, so the system browser is used through executable_path).
"""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).parents[1] / "docs" / "lab-sidebar.png"
LAB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def log_in(page, labdeck, name: str, password: str) -> None:
    page.goto(labdeck.url + "/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")


def test_a_new_user_logs_in_and_sees_the_labdeck_sidebar(labdeck, browser):
    name = "student"
    labdeck.hub_api("POST", f"/users/{name}")  # added by the admin
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.set_default_timeout(LAB_TIMEOUT_MS)
    try:
        log_in(page, labdeck, name, "first-use-password")  # first login sets the password
        page.wait_for_url(f"**/user/{name}/lab**")
        sidebar = page.locator("[data-testid=labdeck-sidebar]")
        if not sidebar.is_visible():
            page.locator(".jp-SideBar [data-id=labdeck-sidebar]").click()
        expect(page.locator("[data-testid=labdeck-user-name]")).to_have_text(name)
        for section in ("session", "spark", "jobs", "deployments"):
            expect(page.locator(f"[data-testid=labdeck-section-{section}]")).to_be_visible()
        expect(page.locator("[data-testid=labdeck-status]")).to_contain_text(name)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
    finally:
        page.close()
    labdeck.stop_server(name)


def test_the_service_accepts_the_browser_cookie_after_hub_login(labdeck, browser):
    name = "cookieuser"
    labdeck.hub_api("POST", f"/users/{name}")
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in(page, labdeck, name, "another-password")
        page.wait_for_url("**/hub/**")
        page.goto(labdeck.url + "/services/labdeck/")  # hub OAuth, no confirmation page
        expect(page.locator("body")).to_contain_text(f"Signed in as {name}")
        # a script must send the XSRF token with the cookie, as JupyterHub requires
        without = page.evaluate("fetch('api/v1/me').then(r => r.status)")
        assert without in (401, 403)
        me = page.evaluate(
            """fetch('api/v1/me', {headers: {'X-XSRFToken':
                document.querySelector('meta[name=labdeck-xsrf]').content}}).then(r => r.json())"""
        )
        assert me["name"] == name
    finally:
        context.close()


def test_a_wrong_password_is_refused(labdeck, browser):
    labdeck.hub_api("POST", "/users/carol")
    page = browser.new_page()
    try:
        log_in(page, labdeck, "carol", "carols-password")
        page.wait_for_url("**/hub/**")
        page.context.clear_cookies()
        log_in(page, labdeck, "carol", "not-carols-password")
        expect(page.locator(".login_error")).to_have_text("Invalid username or password")
        assert "/hub/login" in page.url
    finally:
        page.close()
