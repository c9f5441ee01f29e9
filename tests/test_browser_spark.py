"""The Spark story in the browser: create a cluster in the panel, Connect, open a PySpark
notebook, run %%sql on real Spark, then a Scala notebook on the same cluster, then
terminate from the panel."""

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
from spark_support import processes_named

SPARK_TIMEOUT_MS = 150_000


def test_create_connect_and_query_from_a_pyspark_notebook(labdeck, browser):
    name = "sparkstudent"
    labdeck.create_user(name)
    set_password(labdeck, name, "spark-student-pw")
    page = new_page(browser, height=1000)
    try:
        log_in(page, labdeck, name, "spark-student-pw")
        start_from_spawn_page(page, labdeck, name)
        wait_for_lab(page, name)
        open_sidebar(page)

        panel = page.locator("[data-testid=labdeck-spark-panel]")
        panel.locator("[data-testid=labdeck-spark-create-name]").fill("class-demo")
        panel.locator("[data-testid=labdeck-spark-create-memory]").select_option("512m")
        panel.locator("[data-testid=labdeck-spark-create-submit]").click()
        cluster = panel.locator("[data-testid=labdeck-spark-cluster]").first
        expect(cluster).to_have_attribute("data-state", "RUNNING", timeout=SPARK_TIMEOUT_MS)
        cluster_id = cluster.get_attribute("data-cluster-id")

        cluster.locator("[data-testid=labdeck-spark-connect]").click()
        expect(panel.locator("[data-testid=labdeck-spark-connected]")).to_contain_text("class-demo")
        panel.locator("[data-testid=labdeck-spark-new-notebook-pysparkkernel]").click()
        run_in_new_notebook(page, "PySpark", "%%sql -o answer\nSELECT 6 * 7 AS answer", "42")
        page.screenshot(path=str(SCREENSHOTS / "spark-notebook.png"))

        sessions = labdeck.service("GET", f"/clusters/{cluster_id}/livy/sessions").json()[
            "sessions"
        ]
        assert [(s["owner"], s["kind"]) for s in sessions] == [(name, "pyspark")]
        # the cluster has one core: the PySpark session gives it up for the Scala one
        labdeck.service("DELETE", f"/clusters/{cluster_id}/livy/sessions/{sessions[0]['id']}")

        panel.locator("[data-testid=labdeck-spark-new-notebook-sparkkernel]").click()
        run_in_new_notebook(
            page, "Spark (Scala)", "sc.parallelize(1 to 10).map(_ * 6).sum()", "330.0"
        )
        page.screenshot(path=str(SCREENSHOTS / "spark-scala-notebook.png"))
        live = [
            s["kind"]
            for s in labdeck.service("GET", f"/clusters/{cluster_id}/livy/sessions").json()[
                "sessions"
            ]
            if s["state"] != "killed"
        ]
        assert live == ["spark"]

        cluster.locator("[data-testid=labdeck-spark-terminate]").click()
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        expect(cluster).to_have_attribute("data-state", "TERMINATED", timeout=120_000)
        assert processes_named(cluster_id) == set()
    except Exception:
        page.screenshot(path="/tmp/spark-failure.png")
        raise
    finally:
        page.close()
    labdeck.stop_server(name)


def run_in_new_notebook(page, kernel: str, code: str, expected: str) -> None:
    """In the notebook just opened: wait for its kernel, run one cell, see its output."""
    notebook = page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".jp-KernelName, .jp-Toolbar-kernelName").first).to_contain_text(
        kernel, timeout=60_000
    )
    # the kernel is up before the cell is typed and run
    expect(notebook.locator(".jp-Notebook-ExecutionIndicator").first).to_have_attribute(
        "data-status", "idle", timeout=60_000
    )
    cell = notebook.locator(".jp-Cell .cm-content").first
    cell.click()
    page.keyboard.insert_text(code)
    expect(cell).to_contain_text(code.splitlines()[-1])
    page.keyboard.press("Shift+Enter")
    output = notebook.locator(".jp-Cell .jp-OutputArea").first
    expect(output).to_contain_text(expected, timeout=SPARK_TIMEOUT_MS)
