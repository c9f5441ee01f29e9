"""`labdeck up` as an operator sees it: first start, stop, restart, port clash."""

import os
import pwd
import signal
import socket
import stat

import pytest
import requests
from labdeck_process import alive, run_labdeck, wait_for


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stop_ends_hub_proxy_service_and_user_servers(fresh, sig):
    labdeck = fresh()
    labdeck.create_user("alice")
    labdeck.start_server("alice")
    started = labdeck.processes()
    # hub, proxy, service and alice's server, all under labdeck up
    assert len(started) >= 5, started

    assert labdeck.stop(sig) == 0
    assert [pid for pid in started if alive(pid)] == []
    with pytest.raises(requests.ConnectionError):
        requests.get(labdeck.url + "/hub/api/", timeout=2)


def test_as_another_user_everything_runs_as_that_account_and_up_says_so(fresh):
    labdeck = fresh(user="nobody")
    assert (
        "labdeck: running as nobody: every session runs as this account; "
        "start as root for per-user isolation"
    ) in labdeck.log()
    # no cgroup is writable by that account: the start log says so
    assert "CPU and memory limits are not enforced" in labdeck.log()
    labdeck.create_user("sam")
    labdeck.start_server("sam")
    pid = labdeck.hub_api("GET", "/users/sam")["servers"][""]["state"]["pid"]
    assert os.stat(f"/proc/{pid}").st_uid == pwd.getpwnam("nobody").pw_uid


def test_first_start_writes_private_admin_token_and_password(fresh):
    labdeck = fresh()
    for name in ("admin-token", "admin-password"):
        mode = stat.S_IMODE(os.stat(labdeck.state_dir / name).st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert str(labdeck.state_dir / "admin-token") in labdeck.log()
    # the token has admin rights on the hub API
    assert labdeck.hub_api("GET", "/users/admin")["admin"] is True


def test_restart_on_the_same_state_dir_keeps_users_tokens_and_files(fresh, tmp_path):
    first = fresh()
    token = first.create_user("bob")
    first.start_server("bob")
    note = first.state_dir / "homes" / "bob" / "notes.txt"
    note.write_text("kept")
    admin_token = first.admin_token
    assert first.stop() == 0

    second = fresh(port=first.port)
    assert second.admin_token == admin_token
    assert "Created an admin API token" not in second.log()
    assert "bob" in [user["name"] for user in second.hub_api("GET", "/users")]
    me = second.request("GET", "/services/labdeck/api/v1/me", token=token)
    assert me.json()["name"] == "bob"
    second.start_server("bob")
    assert note.read_text() == "kept"


def test_a_port_in_use_is_refused_in_one_line_and_starts_nothing(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_labdeck("up", "--port", str(port), "--state-dir", str(tmp_path / "s"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(port) in lines[0] and "in use" in lines[0]
    assert not (tmp_path / "s" / "admin-token").exists()


def test_a_second_labdeck_on_a_busy_port_leaves_the_first_unharmed(labdeck, tmp_path):
    result = run_labdeck("up", "--port", str(labdeck.port), "--state-dir", str(tmp_path / "s"))
    assert result.returncode != 0
    assert str(labdeck.port) in result.stderr
    assert labdeck.proc.poll() is None
    assert labdeck.request("GET", "/services/labdeck/api/v1/me").status_code == 200


def test_killing_labdeck_up_itself_still_stops_everything(fresh):
    labdeck = fresh()
    labdeck.create_user("dora")
    labdeck.start_server("dora")
    started = labdeck.processes()
    labdeck.proc.kill()  # no chance to clean up: the hub must notice on its own
    labdeck.proc.wait()
    wait_for(lambda: not [pid for pid in started if alive(pid)], 60, message="orphans to end")


def test_a_hub_that_dies_takes_nothing_with_it_but_leaves_nothing_behind(fresh):
    labdeck = fresh()
    started = labdeck.processes() - {labdeck.proc.pid}
    hub = min(started)  # the hub is started first
    os.kill(hub, signal.SIGKILL)
    code = labdeck.proc.wait(60)
    assert code != 0
    wait_for(lambda: not [pid for pid in started if alive(pid)], 30, message="orphans to end")
