"""The real sparkmagic PySpark kernel, connected from the lab, runs against a real cluster."""

import json
import os

import pytest
from jupyter_client.manager import KernelManager
from labdeck_process import wait_for
from spark_support import create_cluster, wait_state

CELL_TIMEOUT = 300


@pytest.fixture(scope="module")
def connected(labdeck):
    """A user with a running lab, a running cluster, and Connect pressed."""
    name = "analyst"
    token = labdeck.create_user(name)
    labdeck.start_server(name)
    cluster = wait_state(labdeck, token, create_cluster(labdeck, token, "analytics")["id"])
    response = labdeck.request(
        "POST",
        f"/user/{name}/labdeck/spark/connect",
        token=token,
        json={"cluster_id": cluster["id"]},
    )
    assert response.status_code == 200, response.text
    yield name, token, cluster, response.json()
    labdeck.service("DELETE", f"/clusters/{cluster['id']}", token=token)
    labdeck.stop_server(name)


@pytest.fixture(scope="module")
def kernel(labdeck, connected):
    """sparkmagic's PySpark kernel, run the way the user's lab runs it (same HOME)."""
    name = connected[0]
    manager = KernelManager(kernel_name="pysparkkernel")
    env = dict(os.environ, HOME=str(labdeck.state_dir / "homes" / name))
    manager.start_kernel(env=env)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=False)


def run(client, code: str) -> dict:
    """Execute a cell; collect its text, images and errors as the notebook would show them."""
    seen = {"text": "", "stderr": "", "images": 0, "status": None}

    def on_output(message):
        content, kind = message["content"], message["msg_type"]
        if kind == "stream":
            seen["stderr" if content["name"] == "stderr" else "text"] += content["text"]
        elif kind in ("execute_result", "display_data"):
            data = content["data"]
            seen["text"] += data.get("text/plain", "")
            seen["images"] += "image/png" in data
        elif kind == "error":
            seen["stderr"] += "\n".join(content["traceback"])

    reply = client.execute_interactive(code, timeout=CELL_TIMEOUT, output_hook=on_output)
    seen["status"] = reply["content"]["status"]
    return seen


def test_connect_wrote_a_sparkmagic_config_for_the_cluster(labdeck, connected):
    name, _, cluster, answer = connected
    assert answer["kernel"] == "pysparkkernel"
    config_file = labdeck.state_dir / "homes" / name / ".sparkmagic" / "config.json"
    config = json.loads(config_file.read_text())
    url = config["kernel_python_credentials"]["url"]
    assert url.endswith(f"/api/v1/clusters/{cluster['id']}/livy")
    assert config["custom_headers"]["Authorization"].startswith("token ")
    assert oct(config_file.stat().st_mode & 0o777) == "0o600"
    assert labdeck.request("GET", f"/user/{name}/labdeck/spark/connect", token=connected[1]).json()[
        "cluster"
    ] == {"id": cluster["id"], "name": "analytics"}


def test_a_python_cell_runs_on_the_cluster(kernel):
    result = run(kernel, "spark.range(10).count()")
    assert "10" in result["text"], result


def test_sql_with_output_to_a_local_dataframe(kernel):
    run(kernel, "%%sql -o sqlresult\nSELECT 1 AS a, 'x' AS b")
    result = run(kernel, "%%local\nprint(sqlresult.to_dict('records'))")
    assert "[{'a': 1, 'b': 'x'}]" in result["text"], result


def test_spark_dataframe_to_local_with_dash_o(kernel):
    run(kernel, "%%spark -o doubled\ndoubled = spark.range(5).selectExpr('id * 2 AS twice')")
    result = run(kernel, "%%local\nprint(list(doubled['twice']))")
    assert "[0, 2, 4, 6, 8]" in result["text"], result


def test_a_failing_cell_reports_the_remote_error(kernel):
    result = run(kernel, "1 / 0")
    assert "ZeroDivisionError" in result["stderr"], result


PLOT = """import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.plot([1, 3, 2])"""


def test_matplot_shows_an_image(kernel):
    run(kernel, PLOT)
    result = run(kernel, "%matplot plt")
    assert result["images"] == 1, result


def test_a_statement_can_be_cancelled(labdeck, connected, kernel):
    _, token, cluster, _ = connected
    run(kernel, "1 + 1")  # the kernel's session exists
    base = f"/clusters/{cluster['id']}/livy/sessions"
    session = labdeck.service("GET", base, token=token).json()["sessions"][0]
    assert session["state"] == "idle" and session["owner"] == connected[0]
    statements = f"{base}/{session['id']}/statements"
    started = labdeck.service(
        "POST", statements, token=token, json={"code": "import time\ntime.sleep(120)"}
    ).json()
    wait_for(
        lambda: (
            labdeck.service("GET", f"{statements}/{started['id']}", token=token).json()["state"]
            == "running"
        ),
        60,
    )
    cancel = labdeck.service("POST", f"{statements}/{started['id']}/cancel", token=token)
    assert cancel.json() == {"msg": "canceled"}
    wait_for(
        lambda: (
            labdeck.service("GET", f"{statements}/{started['id']}", token=token).json()["state"]
            == "cancelled"
        ),
        30,
        message="the statement to be cancelled",
    )
    assert "2" in run(kernel, "1 + 1")["text"]  # the session still works
