"""A lab runs inside the CPU, memory and process limits of its runtime profile (real
cgroups, v1 here): the kernel holds the profile's numbers, nothing the student started
outlives the session, and a session the memory limit ends is recorded as out of memory."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST_CONFIG
from labdeck_process import Labdeck, alive, remove_tree, traversable_dir, wait_for
from login_support import logged_in, set_password

TINY = (
    FAST_CONFIG
    + """
c.RuntimeProfiles.profiles = [
    {"name": "tiny", "display_name": "Tiny", "cpu_limit": 0.5, "mem_limit": "600M", "gpus": 0},
    {"name": "cpu", "display_name": "CPU", "cpu_limit": 1, "mem_limit": "2G", "gpus": 0},
]
"""
)
MIB = 2**20


@pytest.fixture(scope="module")
def lab():
    parent = traversable_dir()
    instance = Labdeck(parent / "state", config=TINY).start()
    yield instance
    assert instance.stop() == 0
    remove_tree(parent)


def server_pid(labdeck, name: str) -> int:
    return labdeck.hub_api("GET", f"/users/{name}")["servers"][""]["state"]["pid"]


def cgroup_dir(pid: int, controller: str) -> Path:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path("/sys/fs/cgroup") / controller / path.lstrip("/")
    raise AssertionError(f"{pid} has no {controller} cgroup")


def test_a_lab_sits_in_a_cgroup_with_its_profiles_limits(lab):
    lab.create_user("ann")
    lab.start_server("ann", profile="tiny")
    pid = server_pid(lab, "ann")
    memory, cpu, pids = (cgroup_dir(pid, c) for c in ("memory", "cpu", "pids"))
    assert memory.name.startswith("lab-ann-") and memory.parent.name == "labdeck"
    assert int((memory / "memory.limit_in_bytes").read_text()) == 600 * MIB
    quota = int((cpu / "cpu.cfs_quota_us").read_text())
    assert quota / int((cpu / "cpu.cfs_period_us").read_text()) == 0.5
    assert (pids / "pids.max").read_text().strip() == "4096"

    # a process the student detached from the session (setsid) is still in its cgroup
    detached = subprocess.Popen(["setsid", "sleep", "600"])
    for directory in (memory, cpu, pids):
        (directory / "cgroup.procs").write_text(str(detached.pid))
    lab.stop_server("ann")
    assert detached.wait(10) == -9  # ended with the session
    assert not memory.exists()
    assert lab.service("GET", "/sessions?user=ann").json()[0]["end_reason"] == "user"


def test_a_session_killed_by_its_memory_limit_ends_as_out_of_memory(lab):
    lab.create_user("bea")
    lab.start_server("bea", profile="tiny")
    pid = server_pid(lab, "bea")
    memory = cgroup_dir(pid, "memory")
    # the lab server is what the kernel picks, as if a notebook in it grew past 600M
    Path(f"/proc/{pid}/oom_score_adj").write_text("1000")
    hog = subprocess.Popen(
        [
            "sh",
            "-c",
            f"echo $$ > {memory}/cgroup.procs; exec {sys.executable} -c "
            "'import time; x = bytearray(500 * 2**20); time.sleep(60)'",
        ]
    )
    try:
        lab.wait_stopped("bea", timeout=60)
        entry = wait_for(
            lambda: (e := lab.service("GET", "/sessions?user=bea").json()[0])["ended"] and e,
            30,
            0.2,
            "the session to be recorded as ended",
        )
        assert entry["end_reason"] == "out_of_memory"
        assert not alive(pid)
        # and the spawn page says why, before the next runtime is chosen
        set_password(lab, "bea", "bea-first-password")
        page = logged_in(lab, "bea", "bea-first-password").get(lab.url + "/hub/spawn/bea")
        assert page.status_code == 200
        assert "used more memory than its runtime allows" in page.text
    finally:
        hog.kill()
        hog.wait()
