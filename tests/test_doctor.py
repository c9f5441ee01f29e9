"""`labdeck doctor` names what is missing and how to install it."""

import os
import re
import socket
import subprocess
from pathlib import Path

from labdeck.cgroups import Cgroups
from labdeck.doctor import check_limits
from labdeck_process import LABDECK, remove_tree, run_labdeck, traversable_dir


def test_doctor_passes_on_a_complete_machine():
    parent = traversable_dir()
    result = run_labdeck("doctor", "--state-dir", str(parent / "state"), "--port", "0")
    remove_tree(parent)
    assert result.returncode == 0, result.stdout
    for check in ("java", "node", "proxy", "port", "state dir", "chromium"):
        assert check in result.stdout
    assert re.search(r"CPU, memory and process limits enforced \(cgroup v[12]\)", result.stdout)
    assert "each user's code runs as an OS account of its own" in result.stdout


def test_doctor_says_when_the_accounts_could_not_reach_their_homes(tmp_path):
    result = run_labdeck("doctor", "--state-dir", str(tmp_path / "state"), "--port", "0")
    assert result.returncode == 1
    assert "/tmp/pytest-of-root is private (no o+x)" in result.stdout


def test_doctor_as_another_user_says_sessions_share_its_account(tmp_path):
    """Not root: one line says so; the rest still runs."""
    state = traversable_dir()
    result = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            LABDECK,
            "doctor",
            "--state-dir",
            str(state / "state"),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    remove_tree(state)
    assert (
        "running as nobody: every session runs as this account; start as root for "
        "per-user isolation"
    ) in result.stdout, result.stdout + result.stderr


def test_doctor_says_when_limits_cannot_be_enforced():
    check = check_limits(Cgroups(root=Path("/proc")))
    assert not check.ok and not check.required
    assert check.detail.startswith("CPU and memory limits are not enforced")


def test_doctor_says_what_to_install_when_java_and_node_are_missing(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # nothing on PATH
    result = run_labdeck("doctor", "--state-dir", str(tmp_path / "s"), "--port", "0", env=env)
    assert result.returncode == 1
    assert "apt-get install -y openjdk-17-jre-headless" in result.stdout
    assert "nodejs" in result.stdout
    assert "chromium chromium-driver" in result.stdout


def test_doctor_reports_a_busy_port(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_labdeck("doctor", "--state-dir", str(tmp_path), "--port", str(port))
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is in use" in result.stdout


def test_doctor_reports_an_unwritable_state_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_labdeck("doctor", "--state-dir", str(blocker / "state"), "--port", "0")
    assert result.returncode == 1
    assert "state dir" in result.stdout and "fix:" in result.stdout
