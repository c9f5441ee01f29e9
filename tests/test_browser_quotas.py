"""Quotas as a person meets them in the browser: choosing a runtime, the countdown and its
warnings, a refusal on the spawn page, storage, and the admin's usage report."""

import csv
import io
import time
from datetime import datetime

from browser_support import (
    SCREENSHOTS,
    log_in,
    new_page,
    open_sidebar,
    start_from_spawn_page,
    wait_for_lab,
)
from login_support import set_password
from playwright.sync_api import expect


def me(labdeck, token):
    return labdeck.service("GET", "/me", token=token).json()


def test_choose_gpu_on_the_spawn_page_and_see_the_countdown_and_warnings(labdeck, browser):
    name = "gpustudent"
    token = labdeck.create_user(name)
    set_password(labdeck, name, "gpu-student-pw")
    page = new_page(browser)
    try:
        log_in(page, labdeck, name, "gpu-student-pw")
        expect(page.get_by_text("Choose a runtime for this session.")).to_be_visible()
        start_from_spawn_page(page, labdeck, name, "gpu")
        wait_for_lab(page, name)
        assert me(labdeck, token)["session"]["profile"] == "gpu"
        open_sidebar(page)
        expect(page.locator("[data-testid=labdeck-session-profile]")).to_contain_text("GPU")
        expect(page.locator("[data-testid=labdeck-status]")).to_contain_text("left")

        # 14 minutes left: the 15-minute warning appears, with the reason
        started = datetime.fromisoformat(me(labdeck, token)["session"]["started"])
        elapsed = int(time.time() - started.timestamp())
        labdeck.set_quota(name, {"gpu": {"session_seconds": elapsed + 14 * 60}})
        page.locator("[data-testid=labdeck-refresh]").click()
        expect(page.get_by_text("Your GPU session stops in").first).to_be_visible()
        expect(page.locator("[data-testid=labdeck-session-countdown]")).to_contain_text("00:1")
        # the deadline passes: the lab is stopped and says so
        labdeck.set_quota(name, {"gpu": {"session_seconds": elapsed + 8}})
        page.locator("[data-testid=labdeck-refresh]").click()
        labdeck.wait_stopped(name, timeout=60)
        assert labdeck.service("GET", f"/sessions?user={name}").json()[0]["end_reason"] == (
            "session_limit"
        )
    finally:
        page.close()


def test_a_refusal_is_explained_on_the_spawn_page(labdeck, browser):
    name = "nobudget"
    labdeck.create_user(name)
    labdeck.set_quota(name, {"cpu": {"daily_seconds": 0}, "gpu": {"daily_seconds": 0}})
    set_password(labdeck, name, "no-budget-pw")
    page = new_page(browser)
    try:
        log_in(page, labdeck, name, "no-budget-pw")
        # the form says so before anything starts: every runtime is used up
        page.wait_for_url("**/hub/spawn**")
        expect(page.locator("[data-testid=labdeck-all-used-up]")).to_be_visible()
        expect(page.locator("input[name=profile][value=cpu]")).to_be_disabled()
        # starting anyway (the default runtime) is refused, with the reason
        start_from_spawn_page(page, labdeck, name)
        refusal = page.locator(".spawn-error-msg")
        expect(refusal).to_contain_text("You have no CPU time. Ask an admin for a quota.")
        assert not labdeck.hub_api("GET", f"/users/{name}")["servers"]
    finally:
        page.close()


def test_storage_use_is_shown_in_the_lab(labdeck, browser):
    name = "storagestudent"
    labdeck.create_user(name)
    labdeck.set_quota(name, {"storage_bytes": 2_000_000_000})
    set_password(labdeck, name, "storage-student-pw")
    page = new_page(browser)
    try:
        log_in(page, labdeck, name, "storage-student-pw")
        start_from_spawn_page(page, labdeck, name)
        wait_for_lab(page, name)
        open_sidebar(page)
        expect(page.locator("[data-testid=labdeck-storage]")).to_contain_text("of 2")
    finally:
        page.close()
    labdeck.stop_server(name)


def test_admin_reads_the_usage_report_grants_time_and_downloads_csv(labdeck, browser):
    student = "reportee"
    labdeck.create_user(student)
    labdeck.start_server(student)
    labdeck.stop_server(student)
    password = (labdeck.state_dir / "admin-password").read_text().strip()
    # the admin's own hour granted for today shows beside their CPU time
    own = labdeck.service_json(
        "POST",
        "/admin/users/admin/grants",
        expect=201,
        json={"profile": "cpu", "seconds": 3600, "note": "demo"},
    )
    page = new_page(browser)
    try:
        log_in(page, labdeck, "admin", password)
        start_from_spawn_page(page, labdeck, "admin")
        wait_for_lab(page, "admin")
        open_sidebar(page)
        expect(page.locator("[data-testid=labdeck-admin-badge]")).to_be_visible()
        expect(page.locator("[data-testid=labdeck-usage-cpu]")).to_contain_text(
            "+1 h granted today"
        )
        page.locator("[data-testid=labdeck-open-usage-report]").click()
        report = page.locator("[data-testid=labdeck-usage-report]")
        expect(report.locator("[data-testid=labdeck-usage-table]")).to_contain_text(student)
        expect(report.locator("[data-testid=labdeck-usage-chart] canvas").first).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "usage-report.png"))

        # a one-off grant for today (the default), with a note
        page.fill("[data-testid=labdeck-grant-user]", student)
        page.select_option("[data-testid=labdeck-grant-profile]", "gpu")
        page.fill("[data-testid=labdeck-grant-hours]", "2")
        page.fill("[data-testid=labdeck-grant-note]", "exam week")
        page.click("[data-testid=labdeck-grant-submit]")
        result = page.locator("[data-testid=labdeck-grant-result]")
        expect(result).to_contain_text(f"{student} has 2 h more of GPU today")
        (given,) = labdeck.service("GET", f"/admin/users/{student}/grants").json()
        assert (given["seconds"], given["note"], given["granted_by"]) == (
            7200,
            "exam week",
            "admin",
        )
        quota = labdeck.service("GET", f"/admin/users/{student}/quota").json()
        assert quota["gpu"]["daily_seconds"] == 4 * 3600
        # every day: the permanent override
        page.select_option("[data-testid=labdeck-grant-scope]", "daily")
        page.click("[data-testid=labdeck-grant-submit]")
        expect(result).to_contain_text("per day (was 4 h)")
        quota = labdeck.service("GET", f"/admin/users/{student}/quota").json()
        assert quota["gpu"]["daily_seconds"] == 6 * 3600

        with page.expect_download() as download:
            page.click("[data-testid=labdeck-usage-csv]")
        rows = list(csv.DictReader(io.StringIO(open(download.value.path()).read())))
        assert student in {row["user"] for row in rows}
    finally:
        page.close()
        labdeck.service("DELETE", f"/admin/users/admin/grants/{own['id']}")
    labdeck.stop_server("admin")
