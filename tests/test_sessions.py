"""Runtime profiles, quotas, the ledger and enforcement, in a real hub with real labs."""

import time
from datetime import datetime

import pytest
from labdeck_process import server_environment, wait_for


def ledger(labdeck, name: str) -> list[dict]:
    return labdeck.service("GET", f"/sessions?user={name}").json()


def me(labdeck, token: str) -> dict:
    return labdeck.service("GET", "/me", token=token).json()


def test_default_runtime_is_cpu_with_no_gpu(labdeck, new_user):
    name, token = new_user("cpu")
    labdeck.start_server(name)
    env = server_environment(labdeck, name)
    assert env["LABDECK_PROFILE"] == "cpu"
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    assert env["CPU_LIMIT"] == "4.0" and env["MEM_LIMIT"] == str(16 * 1024**3)
    session = me(labdeck, token)["session"]
    assert session["profile"] == "cpu" and session["gpus"] == []
    labdeck.stop_server(name)
    assert ledger(labdeck, name)[0]["end_reason"] == "user"


def test_an_unknown_runtime_is_refused_with_the_choices(labdeck, new_user):
    name, _ = new_user()
    response = labdeck.spawn(name, "tpu")
    assert response.status_code == 400
    assert "cpu, gpu" in response.json()["message"]
    assert ledger(labdeck, name) == []


def test_gpus_are_exclusive_and_the_queue_is_first_come(labdeck, new_user):
    users = [new_user("gpu") for _ in range(4)]
    (a, _), (b, _), (c, c_token), (d, d_token) = users
    for name in (a, b):
        labdeck.start_server(name, profile="gpu")
    devices = {server_environment(labdeck, n)["CUDA_VISIBLE_DEVICES"] for n in (a, b)}
    assert devices == {"0", "1"}
    assert server_environment(labdeck, a)["NVIDIA_VISIBLE_DEVICES"] in devices

    for name in (c, d):  # both wait: no GPU is free
        assert labdeck.spawn(name, "gpu").status_code == 202
        wait_for(lambda n=name: labdeck.service("GET", f"/sessions?user={n}").json() == [], 5)
    wait_for(lambda: (me(labdeck, d_token)["queue"] or {}).get("position") == 2, 30)
    assert me(labdeck, c_token)["queue"] == {"position": 1}
    pending = labdeck.hub_api("GET", f"/users/{c}")["servers"][""]
    assert pending["pending"] == "spawn" and not pending["ready"]

    freed = server_environment(labdeck, a)["CUDA_VISIBLE_DEVICES"]
    labdeck.stop_server(a)
    labdeck.wait_ready(c)  # the head of the queue gets the freed GPU, not d
    assert server_environment(labdeck, c)["CUDA_VISIBLE_DEVICES"] == freed
    assert me(labdeck, d_token)["queue"] == {"position": 1}

    labdeck.stop_server(b)
    labdeck.wait_ready(d)
    used = [server_environment(labdeck, n)["CUDA_VISIBLE_DEVICES"] for n in (c, d)]
    assert sorted(used) == ["0", "1"]
    for name in (c, d):
        labdeck.stop_server(name)


def seconds_since_start(labdeck, token) -> int:
    started = datetime.fromisoformat(me(labdeck, token)["session"]["started"])
    return int(time.time() - started.timestamp())


def test_a_session_is_stopped_at_its_limit_and_files_are_kept(labdeck, new_user):
    name, token = new_user("short")
    labdeck.start_server(name)
    # a limit a few seconds ahead (set once the lab is up: starting takes a while here)
    labdeck.set_quota(name, {"cpu": {"session_seconds": seconds_since_start(labdeck, token) + 3}})
    deadline = datetime.fromisoformat(me(labdeck, token)["session"]["deadline"])
    home = labdeck.state_dir / "homes" / name
    (home / "work.txt").write_text("keep me")

    def lab_closed():
        status = labdeck.request("GET", f"/user/{name}/api/status", token=token)
        return time.time() if status.status_code != 200 else None

    # the user loses the lab right at the deadline (the hub drops its route first)
    closed = wait_for(lab_closed, 30, 0.05, "the lab to close")
    assert deadline.timestamp() - 0.5 <= closed <= deadline.timestamp() + 2
    # then the process ends (its exact lag is measured by benchmarks/enforcement.py)
    labdeck.wait_stopped(name, timeout=30)
    entry = ledger(labdeck, name)[0]
    assert entry["end_reason"] == "session_limit"
    ended = datetime.fromisoformat(entry["ended"])
    assert 0 <= (ended - deadline).total_seconds() < 10
    assert (home / "work.txt").read_text() == "keep me"
    assert me(labdeck, token)["session"] is None


def test_a_spawn_over_the_daily_budget_is_refused_before_anything_starts(labdeck, new_user):
    name, token = new_user("budget")
    labdeck.start_server(name)
    budget = seconds_since_start(labdeck, token) + 3
    labdeck.set_quota(name, {"cpu": {"daily_seconds": budget}})
    labdeck.wait_stopped(name, timeout=30)
    assert ledger(labdeck, name)[0]["end_reason"] == "daily_budget"

    response = labdeck.spawn(name)
    assert response.status_code == 403
    message = response.json()["message"]
    assert message.startswith(f"CPU time used up for today: {budget} s of {budget} s.")
    assert "It renews at" in message and "tomorrow" in message
    assert len(ledger(labdeck, name)) == 1  # nothing started
    assert not labdeck.hub_api("GET", f"/users/{name}")["servers"]
    usage = me(labdeck, token)["usage"]["cpu"]
    assert usage["remaining_seconds"] == 0 and usage["used_seconds"] >= budget
    # GPU time is a separate budget
    assert me(labdeck, token)["usage"]["gpu"]["used_seconds"] == 0


def test_granting_time_moves_a_running_sessions_deadline(labdeck, new_user):
    name, token = new_user("grant")
    labdeck.set_quota(name, {"cpu": {"daily_seconds": 600}})
    labdeck.start_server(name)
    before = me(labdeck, token)["session"]
    assert before["deadline_reason"] == "daily_budget"
    labdeck.set_quota(name, {"cpu": {"daily_seconds": 2 * 3600}})
    after = me(labdeck, token)["session"]
    gained = datetime.fromisoformat(after["deadline"]) - datetime.fromisoformat(before["deadline"])
    assert gained.total_seconds() > 3600
    labdeck.set_quota(name, {"cpu": {"daily_seconds": 1}})  # taking time away stops it now
    labdeck.wait_stopped(name, timeout=30)
    assert ledger(labdeck, name)[0]["end_reason"] == "daily_budget"


def test_a_crashed_server_is_recorded_as_a_crash(labdeck, new_user):
    import os
    import signal

    name, _ = new_user("crash")
    labdeck.start_server(name)
    pid = labdeck.hub_api("GET", f"/users/{name}")["servers"][""]["state"]["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: ledger(labdeck, name)[0]["ended"], 30, message="the crash to be recorded")
    assert ledger(labdeck, name)[0]["end_reason"] == "crash"


def test_me_reports_quota_usage_session_and_storage(labdeck, new_user):
    name, token = new_user("me")
    labdeck.start_server(name, profile="gpu")
    data = me(labdeck, token)
    assert [p["name"] for p in data["profiles"]] == ["cpu", "gpu"]
    assert data["quota"]["gpu"] == {"session_seconds": 14400, "daily_seconds": 14400}
    assert data["session"]["profile"] == "gpu" and len(data["session"]["gpus"]) == 1
    assert data["session"]["deadline_reason"] == "session_limit"
    assert set(data["usage"]["gpu"]) == {
        "used_seconds",
        "remaining_seconds",
        "resets_at",
        "granted_seconds",
    }
    assert data["usage"]["gpu"]["granted_seconds"] == 0
    assert data["storage"]["limit_bytes"] == 15 * 10**9
    assert data["warn_before_seconds"] == [900, 300]
    labdeck.stop_server(name)


def test_users_see_only_their_own_sessions(labdeck, new_user):
    owner, owner_token = new_user("own")
    _, other_token = new_user("nosy")
    labdeck.start_server(owner)
    session_id = me(labdeck, owner_token)["session"]["id"]
    assert labdeck.service("GET", f"/sessions/{session_id}", token=owner_token).status_code == 200
    assert labdeck.service("GET", f"/sessions/{session_id}", token=other_token).status_code == 404
    assert labdeck.service("GET", "/sessions", token=other_token).json() == []
    # even asking for them by name gives only one's own
    assert labdeck.service("GET", f"/sessions?user={owner}", token=other_token).json() == []
    stop = labdeck.service("POST", f"/sessions/{session_id}/stop", token=other_token)
    assert stop.status_code == 404
    assert labdeck.service("GET", f"/sessions/{session_id}").status_code == 200  # admin
    labdeck.stop_server(owner)


def test_an_admin_stop_is_recorded_as_such(labdeck, new_user):
    name, token = new_user("adminstop")
    labdeck.start_server(name)
    session_id = me(labdeck, token)["session"]["id"]
    response = labdeck.service("POST", f"/sessions/{session_id}/stop")
    assert response.status_code == 200
    labdeck.wait_stopped(name)
    assert ledger(labdeck, name)[0]["end_reason"] == "admin"
    again = labdeck.service("POST", f"/sessions/{session_id}/stop")
    assert again.status_code == 409


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/sessions", {"user": "x"}),
        ("POST", "/sessions/1/end", {"reason": "user"}),
        ("DELETE", "/gpu-queue/x", None),
    ],
)
def test_only_the_hub_begins_and_ends_sessions(labdeck, new_user, method, path, body):
    _, token = new_user("forger")
    for caller in (token, "admin"):
        response = labdeck.service(method, path, token=caller, json=body)
        assert response.status_code in (403, 404), response.text
        if response.status_code == 403:
            assert response.json()["error"] == "hub_only"
