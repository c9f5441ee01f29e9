"""Training jobs in the browser: submit a script from the sidebar, or from the file browser's
"Run as training job", watch its log and its loss curve come in, stop it."""

from browser_support import log_in, new_page, open_sidebar, start_from_spawn_page, wait_for_lab
from jobs_support import GATED, write_file
from login_support import set_password
from playwright.sync_api import expect

JOB_TIMEOUT_MS = 60_000


def open_file_browser(page) -> None:
    # The launcher opens once the lab has restored its layout: before, a click on the
    # file browser's tab could be undone (or a panel being restored closed by it).
    page.locator(".jp-Launcher").wait_for()
    if not page.locator("#filebrowser").is_visible():
        page.locator(".jp-SideBar [data-id=filebrowser]").click()
    expect(page.locator("#filebrowser")).to_be_visible()


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

        # the job also opens in its own tab; here it is followed in the sidebar's list
        job.locator("[data-testid=labdeck-jobs-toggle]").click()
        detail = job.locator("[data-testid=labdeck-jobs-detail]")
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


def test_run_a_script_from_the_file_browser_in_its_own_tab(labdeck, browser):
    name = "jobfiles"
    labdeck.create_user(name)
    set_password(labdeck, name, "job-files-pw")
    page = new_page(browser, height=1100)
    try:
        log_in(page, labdeck, name, "job-files-pw")
        start_from_spawn_page(page, labdeck, name)
        wait_for_lab(page, name)
        write_file(labdeck, name, "train.py", GATED)

        # The file browser lists the new file (asked now, rather than at its next poll).
        open_file_browser(page)
        page.locator('#filebrowser [data-command="filebrowser:refresh"]').click()
        item = page.locator('.jp-DirListing-item[data-file-type="python"]', has_text="train.py")
        item.click(button="right")
        page.locator('.lm-Menu-item[data-command="labdeck:run-as-job"]').click()

        # The sidebar's form holds the file; the user picks the rest and submits.
        expect(page.locator("[data-testid=labdeck-jobs-form-script]")).to_have_value("train.py")
        page.locator("[data-testid=labdeck-jobs-form-runtime]").fill("10")
        page.locator("[data-testid=labdeck-jobs-form-metrics]").fill(r"loss=loss=([0-9.]+)")
        page.locator("[data-testid=labdeck-jobs-form-submit]").click()

        # The job opens in its own tab in the main area.
        view = page.locator("#jp-main-dock-panel [data-testid=labdeck-job-view]")
        expect(view).to_have_attribute("data-state", "RUNNING", timeout=JOB_TIMEOUT_MS)
        job_id = view.get_attribute("data-job-id")
        job = labdeck.service("GET", f"/jobs/{job_id}").json()
        assert job["spec"]["script"] == "train.py"
        assert job["spec"]["max_runtime_seconds"] == 600
        expect(
            page.locator(f"#jp-main-dock-panel .lm-TabBar-tab[data-id=labdeck-job-{job_id}]")
        ).to_be_visible()

        # Its charts fill in while it runs: the loss from the log, the accuracy the script
        # logs through labdeck.metrics, and the CPU it uses.
        expect(view.locator("[data-testid=labdeck-jobs-log]")).to_contain_text(
            "epoch 2 loss=0.3333", timeout=JOB_TIMEOUT_MS
        )
        chart = view.locator("[data-testid=labdeck-jobs-metrics]")
        expect(chart.locator("canvas").first).to_be_visible(timeout=JOB_TIMEOUT_MS)
        expect(chart.locator("tr:not(.u-series)", has_text="loss")).to_contain_text(
            "0.3333", timeout=JOB_TIMEOUT_MS
        )
        expect(chart.locator("tr:not(.u-series)", has_text="accuracy")).to_contain_text(
            "0.2", timeout=JOB_TIMEOUT_MS
        )
        cpu = view.locator("[data-testid=labdeck-jobs-cpu]")
        expect(cpu.locator("canvas").first).to_be_visible(timeout=JOB_TIMEOUT_MS)

        view.locator("[data-testid=labdeck-jobs-stop]").click()
        expect(view).to_have_attribute("data-state", "STOPPED", timeout=JOB_TIMEOUT_MS)
        expect(view.locator("[data-testid=labdeck-jobs-stop]")).to_have_count(0)
        assert labdeck.service("GET", f"/jobs/{job_id}").json()["state"] == "STOPPED"
    except Exception:
        page.screenshot(path="/tmp/jobs-files-failure.png")
        raise
    finally:
        page.close()
