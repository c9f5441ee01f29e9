"""End to end in a real browser: log in, land in JupyterLab, see the labdeck sidebar.

Debian chromium driven by Playwright (Playwright's own browser download does not work
here, so the system browser is used through executable_path).
"""

import re

from browser_support import (
    SCREENSHOTS,
    log_in,
    new_page,
    open_sidebar,
    start_from_spawn_page,
    wait_for_lab,
)
from login_support import invite, set_password
from playwright.sync_api import expect


def test_a_new_user_follows_an_invite_link_and_sees_the_labdeck_sidebar(labdeck, browser):
    name = "student"
    labdeck.hub_api("POST", f"/users/{name}")  # added by the admin...
    link = invite(labdeck, name)["url"]  # ...who sends them this link
    page = new_page(browser)
    try:
        page.goto(link)
        expect(page.locator(".auth-form-header")).to_have_text(f"Welcome, {name}")
        page.fill("#password_input", "chosen-on-the-link")
        page.fill("#password_again_input", "chosen-on-the-link")
        page.click("#invite_submit")  # and they are logged in
        start_from_spawn_page(page, labdeck, name)  # the default runtime: CPU
        wait_for_lab(page, name)
        open_sidebar(page)
        expect(page.locator("[data-testid=labdeck-user-name]")).to_have_text(name)
        for section in ("session", "spark", "jobs", "deployments"):
            expect(page.locator(f"[data-testid=labdeck-section-{section}]")).to_be_visible()
        # the status bar counts down the session (CPU: 4 h by default)
        expect(page.locator("[data-testid=labdeck-status]")).to_contain_text(
            re.compile(r"labdeck · CPU · 0[34]:\d\d:\d\d left")
        )
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "lab-sidebar.png"))
    finally:
        page.close()
    labdeck.stop_server(name)


def test_the_service_accepts_the_browser_cookie_after_hub_login(labdeck, browser):
    name = "cookieuser"
    labdeck.hub_api("POST", f"/users/{name}")
    set_password(labdeck, name, "another-password")
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
        # no password yet: the first to try does not get to choose it
        log_in(page, labdeck, "carol", "carols-password")
        expect(page.locator(".login_error")).to_contain_text("Ask your admin for an invite link")
        set_password(labdeck, "carol", "carols-password")
        log_in(page, labdeck, "carol", "carols-password")
        page.wait_for_url("**/hub/spawn**")
        page.context.clear_cookies()
        log_in(page, labdeck, "carol", "not-carols-password")
        expect(page.locator(".login_error")).to_have_text("Invalid username or password")
        assert "/hub/login" in page.url
    finally:
        page.close()
