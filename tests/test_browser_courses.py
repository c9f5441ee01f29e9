"""The admin panel's Courses section in a real lab: a course made from an uploaded CSV
roster."""

import secrets

from browser_support import log_in, new_page, open_sidebar, start_from_spawn_page, wait_for_lab
from playwright.sync_api import expect

COURSES = "/admin/courses"


def test_admin_creates_a_course_from_a_csv_roster_in_the_lab(labdeck, browser, tmp_path):
    group = f"panel{secrets.token_hex(2)}"
    ann, ben = (f"pnl{secrets.token_hex(2)}{n}" for n in range(2))
    roster = tmp_path / "roster.csv"
    roster.write_text(f"user,role\n{ann},instructor\n{ben}\n")
    password = (labdeck.state_dir / "admin-password").read_text().strip()
    page = new_page(browser)
    try:
        log_in(page, labdeck, "admin", password)
        start_from_spawn_page(page, labdeck, "admin")
        wait_for_lab(page, "admin")
        open_sidebar(page)
        page.locator("[data-testid=labdeck-open-usage-report]").click()
        section = page.locator("section[aria-label=Courses]")
        section.locator("input[data-testid=labdeck-course-group]").fill(group)
        section.locator("[data-testid=labdeck-course-file]").set_input_files(str(roster))
        expect(section.locator("[data-testid=labdeck-course-roster]")).to_have_value(
            roster.read_text()
        )
        section.locator("[data-testid=labdeck-course-submit]").click()
        outcome = section.locator("[data-testid=labdeck-course-outcome]")
        expect(outcome).to_contain_text(f"{group}: 1 instructor, 1 student.")
        expect(outcome).to_contain_text(f"New hub users: {ann}, {ben}")
        expect(section.locator("[data-testid=labdeck-courses-table]")).to_contain_text(group)
    finally:
        page.close()
        labdeck.stop_server("admin")
    course = labdeck.service_json("GET", f"{COURSES}/{group}")
    assert (course["instructors"], course["students"]) == ([ann], [ben])
    assert labdeck.service("DELETE", f"{COURSES}/{group}").status_code == 204
