"""A quiet, ordered lifecycle: `labdeck up` starts and stops without warnings, sessions
end (recorded as hub_shutdown) before the service stops, the admin token acts as the
admin, and the lab copes with a restarting control plane."""

import os
import re
import signal
import time
from datetime import datetime
from pathlib import Path

from lab_support import run_in_kernel, run_in_terminal
from labdeck_process import wait_for
from login_support import logged_in

# A log line at WARNING or worse: JupyterHub's and the lab's `[W 2026-...`, the proxy's
# `[E 2026-...`, labdeck's own notices, Python's tracebacks.
BAD_LINE = re.compile(r"^\[[WEC] \d{4}-|WARNING|ERROR|Traceback|did not record")
# Not labdeck's to remove (each lab logs them once; no setting avoids them):
UPSTREAM = re.compile(
    "|".join(
        [
            # jupyterhub-singleuser adds a classic-notebook template path to NotebookApp's
            # config, and notebook_shim (JupyterLab, Notebook 7) warns that the setting
            # also exists in ServerApp (jupyterhub/jupyterhub#5379)
            r"\] 'extra_template_paths' was found in both NotebookApp and ServerApp",
            # jupyter_server's websockets give tornado >= 6.5 their ping period in ms, as
            # seconds, and a timeout 3 periods long that tornado now refuses; a timeout of
            # one period would make jupyter_server's own ping check close live websockets
            # (jupyter-server/jupyter_server#1612)
            r"\] The websocket_ping_timeout \(90000\) cannot be longer than the "
            r"websocket_ping_interval \(30000\)",
        ]
    )
)
NOTIFICATION = "@jupyterlab/apputils-extension:notification"


def bad_lines(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if (BAD_LINE.search(line) or " 404 " in line) and not UPSTREAM.search(line)
    ]


def use_lab(labdeck, name: str, token: str) -> None:
    """What a user does in a lab: open it, call labdeck, run code in a kernel and a
    terminal, save a file."""
    for path in ("/lab", "/api/status", "/labdeck/api/v1/me", "/lab/api/settings"):
        response = labdeck.request("GET", f"/user/{name}{path}", token=token)
        assert response.status_code == 200, (path, response.text)
    assert run_in_kernel(labdeck, name, token, "print(6 * 7)") == "42\n"
    assert "hello" in run_in_terminal(labdeck, name, token, "echo hello")
    saved = labdeck.request(
        "PUT",
        f"/user/{name}/api/contents/notes.txt",
        token=token,
        json={"type": "file", "format": "text", "content": "hello"},
    )
    assert saved.status_code in (200, 201), saved.text


def test_a_clean_start_and_stop_log_nothing_wrong_and_end_sessions_first(fresh):
    first = fresh()
    token = first.create_user("amy")
    # the admin logs in through the hub's form and opens labdeck's own page: hub OAuth,
    # no confirmation page
    browser = logged_in(first, "admin", (first.state_dir / "admin-password").read_text().strip())
    # what a browser sends on a page visit (without it the hub warns of skipping its
    # XSRF check for a request of unknown kind)
    landing = browser.get(first.url + "/services/labdeck/", headers={"Sec-Fetch-Mode": "navigate"})
    assert landing.status_code == 200, landing.text
    assert "Signed in as <b>admin</b>" in landing.text
    # a lab started, used, stopped; and one running when labdeck stops
    first.start_server("amy")
    use_lab(first, "amy", token)
    first.stop_server("amy")
    first.start_server("amy")
    use_lab(first, "amy", token)
    stopped_at = time.time()
    assert first.stop() == 0

    log = first.log()
    assert "labdeck is running" in log and "Stopping 1 user server(s) before the services" in log
    assert bad_lines(log) == [], "\n".join(bad_lines(log))

    second = fresh(state_dir=first.state_dir, port=first.port)
    last = second.service_json("GET", "/sessions?user=amy")[0]
    assert last["end_reason"] == "hub_shutdown"
    ended = datetime.fromisoformat(last["ended"]).timestamp()
    # recorded as it stopped, not closed later from the last heartbeat
    assert stopped_at - 1 <= ended <= stopped_at + 30
    assert bad_lines(second.log()) == [], "\n".join(bad_lines(second.log()))


def test_the_admin_token_acts_as_the_admin_user(labdeck):
    me = labdeck.hub_api("GET", "/user")
    assert me["name"] == "admin" and me["admin"] is True
    assert labdeck.service_json("GET", "/me")["name"] == "admin"
    # admin rights on the hub: listing every user
    assert "admin" in {user["name"] for user in labdeck.hub_api("GET", "/users")}


def service_pid(labdeck) -> int | None:
    for pid in labdeck.processes():
        try:
            if b"labdeck.service" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def test_the_lab_says_the_control_plane_is_restarting_and_recovers(labdeck, new_user):
    name, token = new_user("restart")
    labdeck.start_server(name)
    me = f"/user/{name}/labdeck/api/v1/me"
    try:
        assert labdeck.request("GET", me, token=token).status_code == 200
        os.kill(service_pid(labdeck), signal.SIGKILL)
        answers = []

        def answered(ok: bool) -> bool:
            answers.append(labdeck.request("GET", me, token=token))
            return (answers[-1].status_code == 200) is ok

        wait_for(lambda: answered(False), 30, 0.2, "the lab to notice the service is down")
        noticed = len(answers) - 1
        down = answers[noticed]
        assert down.status_code == 503, down.text
        assert down.headers["Content-Type"].startswith("application/json")
        assert int(down.headers["Retry-After"]) > 0
        assert down.json() == {
            "error": "service_restarting",
            "message": "labdeck's control plane is restarting. This page retries on its "
            "own; your lab and files are not affected.",
        }
        # so until the service is back
        wait_for(lambda: answered(True), 60, 0.3, "the service to come back")
        assert {a.status_code for a in answers[noticed:-1]} == {503}
        assert answers[-1].json()["name"] == name
    finally:
        labdeck.stop_server(name)


def test_the_lab_asks_for_no_news_and_no_update_checks(labdeck, new_user):
    name, token = new_user("news")
    labdeck.start_server(name)
    try:
        response = labdeck.request(
            "GET", f"/user/{name}/lab/api/settings/{NOTIFICATION}", token=token
        )
        assert response.status_code == 200, response.text
        defaults = {
            key: spec["default"] for key, spec in response.json()["schema"]["properties"].items()
        }
        # JupyterLab's own defaults ask ("none") and check (true)
        assert defaults["fetchNews"] == "false"
        assert defaults["checkForUpdates"] is False
    finally:
        labdeck.stop_server(name)
