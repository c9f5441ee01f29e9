"""The spawn page as a student meets it: the time each runtime has left today, a used-up
runtime disabled with when it renews, and no GPU runtime on a machine without GPUs."""

from browser_support import SCREENSHOTS, log_in, new_page, wait_for_lab
from login_support import set_password
from playwright.sync_api import expect

# a class's runtimes, renewing at midnight; no `--gpus` and no GPU here
CLASS_CONFIG = """
c.QuotaPolicy.reset = "daily"
c.RuntimeProfiles.profiles = [
    {"name": "cpu", "display_name": "CPU", "description": "2 CPU cores and 4 GB of memory.",
     "cpu_limit": 2.0, "mem_limit": "4G", "gpus": 0},
    {"name": "cpu-large", "display_name": "CPU large",
     "description": "2 CPU cores and 8 GB of memory, for bigger data sets.",
     "cpu_limit": 2.0, "mem_limit": "8G", "gpus": 0},
    {"name": "gpu", "display_name": "GPU", "description": "One GPU of its own.",
     "cpu_limit": 2.0, "mem_limit": "8G", "gpus": 1},
]
"""
HOUR = 3600


def test_the_spawn_page_shows_time_left_and_disables_a_used_up_runtime(fresh, browser):
    labdeck = fresh(config=CLASS_CONFIG)
    name = "springstudent"
    token = labdeck.create_user(name)
    set_password(labdeck, name, "spring-student-pw")
    # the student used some CPU time, and that was all of today's
    labdeck.start_server(name, profile="cpu")
    labdeck.stop_server(name)
    used = labdeck.service_json("GET", "/me", token=token)["usage"]["cpu"]["used_seconds"]
    labdeck.set_quota(
        name,
        {
            "cpu": {"daily_seconds": used},
            "cpu-large": {"session_seconds": 3 * HOUR, "daily_seconds": 5 * HOUR},
        },
    )
    page = new_page(browser)
    try:
        log_in(page, labdeck, name, "spring-student-pw")
        page.wait_for_url("**/hub/spawn**")
        left = page.locator("[data-testid=labdeck-runtime-left-cpu-large]")
        expect(left).to_have_text("5 h left today · sessions up to 3 h")
        # the configured default is used up: disabled, saying when it renews
        expect(page.locator("input[name=profile][value=cpu]")).to_be_disabled()
        used_up = page.locator("[data-testid=labdeck-runtime-left-cpu]")
        expect(used_up).to_contain_text("CPU time used up for today")
        expect(used_up).to_contain_text("It renews at 00:00 UTC tomorrow.")
        # so the runtime that has time is the one chosen
        expect(page.locator("input[name=profile][value=cpu-large]")).to_be_checked()
        expect(page.locator("input[name=profile][value=cpu-large]")).to_be_enabled()
        # no GPU here: the GPU runtime is not offered
        expect(page.locator("[data-testid=labdeck-runtime-gpu]")).to_have_count(0)
        expect(page.locator("[data-testid=labdeck-all-used-up]")).to_have_count(0)
        page.screenshot(path=str(SCREENSHOTS / "spawn-page.png"))

        page.click("form button[type=submit], form input[type=submit]")
        wait_for_lab(page, name)
        session = labdeck.service_json("GET", "/me", token=token)["session"]
        assert session["profile"] == "cpu-large"
    finally:
        page.close()
    labdeck.stop_server(name)
