"""Driving Debian chromium with Playwright (its own browser download does not work here)."""

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[1] / "docs"
LAB_TIMEOUT_MS = 120_000


def new_page(browser, width: int = 1400, height: int = 860):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(LAB_TIMEOUT_MS)
    return page


def log_in(page, labdeck, name: str, password: str) -> None:
    page.goto(labdeck.url + "/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")


def start_from_spawn_page(page, labdeck, name: str, profile: str | None = None) -> None:
    """On the runtime form (shown when the user has no server): pick one and start."""
    page.wait_for_url("**/hub/spawn**")
    if profile:
        page.check(f"input[name=profile][value={profile}]")
    page.click("form button[type=submit], form input[type=submit]")


def wait_for_lab(page, name: str) -> None:
    page.wait_for_url(f"**/user/{name}/lab**")


def open_sidebar(page) -> None:
    if not page.locator("[data-testid=labdeck-sidebar]").is_visible():
        page.locator(".jp-SideBar [data-id=labdeck-sidebar]").click()
