"""Model deployments in the browser: right-click a model folder in the file browser,
"Deploy as endpoint", watch it come into service in its own tab, call it from the test
form, see the call in its invocation chart, delete it."""

import os
import subprocess
import sys

from browser_support import (
    SCREENSHOTS,
    log_in,
    new_page,
    start_from_spawn_page,
    wait_for_lab,
)
from login_support import set_password
from playwright.sync_api import expect
from test_browser_jobs import open_file_browser
from test_deployments import model_folder

DEPLOY_TIMEOUT_MS = 90_000


def test_deploy_a_folder_from_the_file_browser_test_it_and_delete_it(labdeck, browser):
    name = "deploystudent"
    token = labdeck.create_user(name)
    set_password(labdeck, name, "deploy-student-pw")
    page = new_page(browser, height=1400)
    try:
        log_in(page, labdeck, name, "deploy-student-pw")
        start_from_spawn_page(page, labdeck, name)
        wait_for_lab(page, name)
        model_folder(labdeck, name, "Echo_Model")  # the home exists once the lab runs

        # The file browser lists the new folder (asked now, rather than at its next poll).
        open_file_browser(page)
        page.locator('#filebrowser [data-command="filebrowser:refresh"]').click()
        folder = page.locator('.jp-DirListing-item[data-isdir="true"]', has_text="Echo_Model")
        folder.click(button="right")
        page.locator('.lm-Menu-item[data-command="labdeck:deploy-folder"]').click()

        # The sidebar's form holds the folder and a name made from it.
        form_folder = page.locator("[data-testid=labdeck-deployments-form-folder]")
        expect(form_folder).to_have_value("Echo_Model")
        expect(page.locator("[data-testid=labdeck-deployments-form-name]")).to_have_value(
            "echo-model"
        )
        page.locator("[data-testid=labdeck-deployments-form-submit]").click()

        # The deployment opens in its own tab and comes into service.
        view = page.locator("#jp-main-dock-panel [data-testid=labdeck-deployment-view]")
        expect(view).to_have_attribute("data-name", "echo-model", timeout=DEPLOY_TIMEOUT_MS)
        expect(
            page.locator(
                f"#jp-main-dock-panel .lm-TabBar-tab[data-id=labdeck-deployment-{name}-echo-model]"
            )
        ).to_be_visible()
        expect(view).to_have_attribute("data-state", "IN_SERVICE", timeout=DEPLOY_TIMEOUT_MS)
        served = labdeck.service("GET", f"/deployments/echo-model?user={name}").json()
        assert served["state"] == "IN_SERVICE", served
        assert served["spec"]["model_dir"] == "Echo_Model"
        item = page.locator("[data-testid=labdeck-deployments-item][data-name=echo-model]")
        expect(item).to_have_attribute("data-state", "IN_SERVICE")

        # The test form sends its sample payload through the lab to the endpoint.
        view.locator("[data-testid=labdeck-deployment-test-send]").click()
        expect(view.locator("[data-testid=labdeck-deployment-test-status]")).to_have_text(
            "200 OK", timeout=DEPLOY_TIMEOUT_MS
        )
        body = view.locator("[data-testid=labdeck-deployment-test-body]")
        expect(body).to_contain_text('"version": "1"')
        expect(body).to_contain_text('"sum": 0')

        # The call is in this minute's invocations.
        chart = view.locator("[data-testid=labdeck-deployment-invocations]")
        expect(chart.locator("canvas").first).to_be_visible(timeout=DEPLOY_TIMEOUT_MS)
        expect(chart.locator("tr:not(.u-series)", has_text="Invocations")).to_contain_text(
            "1", timeout=DEPLOY_TIMEOUT_MS
        )
        points = labdeck.service("GET", f"/deployments/echo-model/metrics?user={name}").json()
        assert sum(p["invocations"] for p in points["points"]) == 1

        # The snippets call it as they are, with the token a lab's terminals and
        # notebooks have.
        env = {
            **os.environ,
            "JUPYTERHUB_API_TOKEN": token,
            "LABDECK_SERVICE_URL": labdeck.url + "/services/labdeck/",
        }
        curl = view.locator("[data-testid=labdeck-deployment-curl]").inner_text()
        assert f"{labdeck.url}/services/labdeck/api/v1/endpoints/{name}/echo-model/" in curl
        called = run_snippet(["bash", "-c", curl + " --fail-with-body -sS"], env)
        assert '"version":"1"' in called.replace(" ", ""), called
        python = view.locator("[data-testid=labdeck-deployment-python]").inner_text()
        called = run_snippet([sys.executable, "-c", python], env)
        assert "'version': '1'" in called, called
        toasts = page.locator(".Toastify__toast")
        news = toasts.get_by_role("button", name="No", exact=True)
        if news.count():  # JupyterLab's question about its news, if it asked already
            news.first.click()
            expect(toasts).to_have_count(0)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "deployment.png"))

        # Delete, once confirmed: the tab says so and the endpoint is gone.
        view.locator("[data-testid=labdeck-deployment-delete]").click()
        page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-warn").click()
        expect(view.locator("[data-testid=labdeck-deployment-view-gone]")).to_be_visible(
            timeout=DEPLOY_TIMEOUT_MS
        )
        expect(item).to_have_count(0)
        gone = labdeck.service("GET", f"/deployments/echo-model?user={name}")
        assert gone.status_code == 404, gone.text
    except Exception:
        page.screenshot(path="/tmp/deployments-failure.png")
        raise
    finally:
        page.close()


def run_snippet(argv: list[str], env: dict) -> str:
    """What a snippet copied from the panel prints, run as a user would."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout
