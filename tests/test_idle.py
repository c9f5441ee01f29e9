"""Idle culling in a real hub: the hub's activity data, a warning first, then reason `idle`."""

import re
import time
from datetime import datetime

import pytest
from conftest import FAST_CONFIG
from lab_support import run_in_terminal
from labdeck_process import Labdeck, alive, remove_tree, traversable_dir, wait_for

IDLE_SECONDS = 20
WARN_BEFORE = 10
# short timeouts, and activity that reaches the hub every 2 s (not every minute)
IDLE_CONFIG = (
    FAST_CONFIG
    + f"""
c.RuntimeProfiles.profiles = [
    {{"name": "cpu", "display_name": "CPU", "cpu_limit": 1.0, "idle_seconds": {IDLE_SECONDS}}},
    {{"name": "steady", "display_name": "Never culled", "idle_seconds": None}},
]
c.IdleCuller.check_seconds = 1
c.IdleCuller.warn_before_seconds = {WARN_BEFORE}
c.Spawner.environment.update({{"JUPYTERHUB_ACTIVITY_INTERVAL": "2"}})
"""
)
WARNING = re.compile(r"No activity for \d+ s; this session stops in \d+ s unless you use it\.")


@pytest.fixture(scope="module")
def hub():
    parent = traversable_dir()
    instance = Labdeck(parent / "state", config=IDLE_CONFIG).start()
    yield instance
    started = instance.processes()
    assert instance.stop() == 0, instance.log()
    assert [pid for pid in started if alive(pid)] == []
    remove_tree(parent)


def me(hub, token: str) -> dict:
    return hub.service_json("GET", "/me", token=token)


def sessions(hub, name: str) -> list[dict]:
    return hub.service_json("GET", f"/sessions?user={name}")


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# what an open JupyterLab tab reads every few seconds, and labdeck's own panels
OPEN_TAB_READS = (
    "api/kernels",
    "api/sessions",
    "api/terminals",
    "api/kernelspecs",
    "api/contents",
    "labdeck/api/v1/me",
)


def read_like_an_open_tab(hub, name: str, token: str) -> list[int]:
    """The lab's reads through the hub's proxy, as a tab left open sends them."""
    return [
        hub.request("GET", f"/user/{name}/{path}", token=token).status_code
        for path in OPEN_TAB_READS
    ]


def test_an_idle_lab_left_open_is_warned_then_stopped_as_idle(hub):
    name, token = "idler", hub.create_user("idler")
    steady, steady_token = "steady", hub.create_user("steady")
    # the runtime without an idle timeout starts first: it is idle as long as the other
    hub.start_server(steady, profile="steady")
    hub.start_server(name)
    idle = me(hub, token)["session"]["idle"]
    assert idle["idle_seconds"] == IDLE_SECONDS and idle["warning"] is None

    def warned():
        # the tab stays open: its polls are not activity
        assert read_like_an_open_tab(hub, name, token) == [200] * len(OPEN_TAB_READS)
        session = me(hub, token)["session"]
        return session and session["idle"]["warning"] and session

    warned_session = wait_for(warned, IDLE_SECONDS + 10, 0.3, "the idle warning")
    seen_at = time.time()
    warning = warned_session["idle"]
    assert WARNING.fullmatch(warning["warning"]), warning
    assert at(warning["stops_at"]).timestamp() > seen_at
    assert sessions(hub, name)[0]["ended"] is None  # warned while it still runs

    def stopped():
        if hub.hub_api("GET", f"/users/{name}")["servers"]:
            read_like_an_open_tab(hub, name, token)  # may meet the stop half-way
            return False
        return True

    wait_for(stopped, IDLE_SECONDS + 15, 0.3, f"{name}'s idle lab to stop")
    ended = wait_for(lambda: sessions(hub, name)[0]["ended"], 10, 0.2, "the ledger's end")
    entry = sessions(hub, name)[0]
    assert entry["end_reason"] == "idle"
    assert at(warning["warned_at"]) < at(ended)
    # stopped at its idle timeout, not before
    assert (at(ended) - at(warning["last_activity"])).total_seconds() >= IDLE_SECONDS
    assert me(hub, token)["session"] is None

    # a runtime with no idle timeout keeps running, idle as long
    session = me(hub, steady_token)["session"]
    assert session is not None and session["idle"] is None
    assert hub.hub_api("GET", f"/users/{steady}")["servers"][""]["ready"]
    assert sessions(hub, steady)[0]["ended"] is None
    hub.stop_server(steady)
    assert sessions(hub, steady)[0]["end_reason"] == "user"


def test_a_lab_in_use_is_not_stopped(hub):
    name, token = "worker", hub.create_user("worker")
    hub.start_server(name)
    started = time.monotonic()
    # the user works in a terminal now and then, well past the idle timeout
    while time.monotonic() - started < IDLE_SECONDS + 12:
        assert "busy" in run_in_terminal(hub, name, token, "echo busy")
        session = me(hub, token)["session"]
        assert session is not None, "the lab in use was stopped"
        assert session["idle"]["warning"] is None, session["idle"]
        time.sleep(2)
    assert sessions(hub, name)[0]["ended"] is None
    idle = me(hub, token)["session"]["idle"]
    assert time.time() - at(idle["last_activity"]).timestamp() < WARN_BEFORE
    hub.stop_server(name)
    assert sessions(hub, name)[0]["end_reason"] == "user"
