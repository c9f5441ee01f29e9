"""CPU, memory and process limits on real cgroups (v1 on this machine), through the
supervisor: the limits the kernel holds, a memory hog killed and reported, a fork bomb
contained, nothing left after a stop, detached processes included."""

import asyncio
import logging
import signal
import sys
import uuid
from pathlib import Path

import pytest
from labdeck.cgroups import Cgroups, Limits
from labdeck.supervisor import Supervisor, tail_lines
from labdeck_process import alive, wait_for

LOG = logging.getLogger("test-cgroups")
MIB = 2**20


@pytest.fixture
def supervisor():
    cgroups = Cgroups(parent=f"labdeck-test-{uuid.uuid4().hex[:8]}")
    supervisor = Supervisor(LOG, cgroups)
    assert supervisor.limits_enforced, cgroups.available()  # the suite runs as root
    yield supervisor
    for parent in cgroups._parents().values():
        for child in (p for p in parent.iterdir() if p.is_dir()):
            child.rmdir()
        parent.rmdir()


def test_a_process_runs_inside_its_limits_from_its_first_instruction(supervisor, tmp_path):
    async def scenario():
        cgroup = supervisor.limit("lab-alice", Limits(0.5, 600 * MIB, 64))
        process = await supervisor.start(
            "lab",
            ["sh", "-c", "cat /proc/self/cgroup; sleep 60"],
            log_path=tmp_path / "lab.log",
            cgroup=cgroup,
        )
        wait_for(lambda: len(tail_lines(tmp_path / "lab.log")) >= 3, 10)
        assert process.pid in cgroup.pids()
        assert supervisor.cgroups.read_limits(cgroup) == Limits(0.5, 600 * MIB, 64)
        await supervisor.terminate([process], grace=5)
        await supervisor.release(cgroup)
        return cgroup

    cgroup = asyncio.run(scenario())
    # the very first thing it ran already saw its own cgroup
    memory_line = next(ln for ln in tail_lines(tmp_path / "lab.log") if ":memory:" in ln)
    assert memory_line.endswith("/lab-alice")
    assert not any(d.exists() for d in cgroup.directories.values())


def test_a_memory_hog_is_killed_and_reported_as_out_of_memory(supervisor, tmp_path):
    hog = "x = []\nwhile True:\n    x.append(bytearray(16 * 2**20))\n"

    async def scenario():
        cgroup = supervisor.limit("hog", Limits(memory_bytes=128 * MIB))
        process = await supervisor.start(
            "hog", [sys.executable, "-c", hog], log_path=tmp_path / "hog.log", cgroup=cgroup
        )
        assert await process.wait(60)
        await supervisor.release(cgroup)
        return process

    process = asyncio.run(scenario())
    assert process.exit_status.signal == signal.SIGKILL
    assert process.out_of_memory()


def test_a_fork_bomb_is_contained_and_a_stop_leaves_nothing(supervisor, tmp_path):
    bomb = "i=0; while [ $i -lt 200 ]; do sleep 60 & i=$((i+1)); done; wait"

    async def scenario():
        cgroup = supervisor.limit("bomb", Limits(pids=32))
        process = await supervisor.start(
            "bomb", ["sh", "-c", bomb], log_path=tmp_path / "bomb.log", cgroup=cgroup
        )
        wait_for(lambda: "fork" in " ".join(tail_lines(tmp_path / "bomb.log")).lower(), 30)
        pids = cgroup.pids()
        assert 2 < len(pids) <= 32
        await supervisor.terminate([process], grace=2)
        await supervisor.release(cgroup)
        return pids

    pids = asyncio.run(scenario())
    assert [pid for pid in pids if alive(pid)] == []


def test_a_detached_process_does_not_outlive_its_session(supervisor, tmp_path):
    async def scenario():
        cgroup = supervisor.limit("detach", Limits())
        process = await supervisor.start(
            "detach",
            ["sh", "-c", "setsid sleep 600 & echo $! ; wait"],
            log_path=tmp_path / "detach.log",
            cgroup=cgroup,
        )
        escaped = int(wait_for(lambda: tail_lines(tmp_path / "detach.log"), 10)[0])
        # once setsid has run, it is in a session of its own
        wait_for(lambda: session_of(escaped) == escaped, 10, 0.01, "setsid to run")
        await supervisor.terminate([process], grace=2)
        assert alive(escaped)  # its own session: the group's signal did not reach it
        await supervisor.release(cgroup)
        return escaped

    assert not alive(asyncio.run(scenario()))


def session_of(pid: int) -> int | None:
    """The session id of a process (field 6 of /proc/<pid>/stat)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return None


def test_where_no_cgroup_is_writable_limits_say_so():
    supervisor = Supervisor(LOG, Cgroups(root=Path("/proc")))
    assert not supervisor.limits_enforced
    assert supervisor.limit("x", Limits(1, MIB, 8)) is None


def test_cgroup_v2_gets_the_same_limits(tmp_path, monkeypatch):
    """No v2 hierarchy can be mounted here: what labdeck writes into one is checked."""
    root = tmp_path / "cgroup2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr("labdeck.cgroups._own_cgroup", lambda controller: "/")

    def mkdir(self, *args, **kwargs):
        Path.mkdir.__wrapped__(self, *args, **kwargs)
        # the kernel fills a new cgroup with its interface files
        for name in ("cgroup.controllers", "cgroup.subtree_control", "cgroup.procs"):
            (self / name).write_text("cpu memory pids\n" if name == "cgroup.controllers" else "")

    cgroups = Cgroups(root=root)
    assert cgroups.unified
    original = Path.mkdir
    mkdir.__wrapped__ = original
    monkeypatch.setattr(Path, "mkdir", mkdir)
    cgroup = cgroups.create("session-7", Limits(1.5, 2 * 2**30, 100))
    directory = root / "labdeck" / "session-7"
    assert (directory / "cpu.max").read_text() == "150000 100000"
    assert (directory / "memory.max").read_text() == str(2 * 2**30)
    assert (directory / "memory.swap.max").read_text() == "0"
    assert (directory / "pids.max").read_text() == "100"
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert cgroups.read_limits(cgroup) == Limits(1.5, 2 * 2**30, 100)
