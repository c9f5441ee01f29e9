"""Training jobs in the browser: submit a script from the sidebar, watch its log and its loss
curve come in, stop it."""

from browser_support import log_in, new_page, open_sidebar, start_from_spawn_page, wait_for_lab
from jobs_support import GATED, write_file
from login_support import set_password
from playwright.sync_api import expect

JOB_TIMEOUT_MS = 60_000


def test_submit_watch_and_stop_a_job_from_the_sidebar(labdeck, browser):
    name = "jobstudent"
    labdeck.create_user(name)
    set_password(labdeck, name, "job-student-pw")
    page = new_page(browser, height=1100)
    try:
        log_in(page, labdeck, name, "job-student-pw")
        start_from_spawn_page(page, labdeck, name)
        wait_for_lab(page, name)
        write_file(labdeck, name, "train.py", GATED)  # the home exists once the lab runs
        open_sidebar(page)

        page.locator("[data-testid=labdeck-jobs-form-script]").fill("train.py")
        page.locator("[data-testid=labdeck-jobs-form-metrics]").fill(r"loss=loss=([0-9.]+)")
        page.locator("[data-testid=labdeck-jobs-form-submit]").click()
        job = page.locator("[data-testid=labdeck-jobs-job]").first
        expect(job).to_have_attribute("data-state", "RUNNING", timeout=JOB_TIMEOUT_MS)

        job.locator("[data-testid=labdeck-jobs-toggle]").click()
        detail = page.locator("[data-testid=labdeck-jobs-detail]")
        expect(detail.locator("[data-testid=labdeck-jobs-log]")).to_contain_text(
            "epoch 2 loss=0.3333", timeout=JOB_TIMEOUT_MS
        )
        # the chart's table (for screen readers) holds the loss curve's last value
        chart = detail.locator("[data-testid=labdeck-jobs-metrics]")
        expect(chart.locator("canvas").first).to_be_visible(timeout=JOB_TIMEOUT_MS)
        expect(chart.locator("tr:not(.u-series)", has_text="loss")).to_contain_text(
            "0.3333", timeout=JOB_TIMEOUT_MS
        )

        job.locator("[data-testid=labdeck-jobs-stop]").click()
        expect(job).to_have_attribute("data-state", "STOPPED", timeout=JOB_TIMEOUT_MS)
        job_id = job.get_attribute("data-job-id")
        assert labdeck.service("GET", f"/jobs/{job_id}").json()["state"] == "STOPPED"
    except Exception:
        page.screenshot(path="/tmp/jobs-failure.png")
        raise
    finally:
        page.close()
