"""CPU, memory and process-count limits for the process tree of one session or resource.

One cgroup per session or resource, made under a `labdeck` group of the service's own
cgroup, removed when it ends. cgroup v2 (unified, as most production hosts run) where
`/sys/fs/cgroup/cgroup.controllers` exists; otherwise cgroup v1, one directory in each
of the `cpu`, `memory` and `pids` hierarchies. Where neither is writable (not root, a
locked-down container) `Cgroups.available()` says why and nothing is limited.
"""

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("cpu", "memory", "pids")
CPU_PERIOD_US = 100_000
KILL_ROUNDS = 50


@dataclass(frozen=True)
class Limits:
    """What a process tree may use; None leaves a resource unlimited."""

    cpu_cores: float | None = None
    memory_bytes: int | None = None
    pids: int | None = None


class CgroupError(OSError):
    """A cgroup could not be made, joined or removed."""


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _own_cgroup(controller: str) -> str:
    """This process's cgroup in a hierarchy ('' is the unified one), from /proc."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or controller == controllers:
            return path
    return "/"


class Cgroup:
    """One process tree's cgroup: in one directory (v2) or one per hierarchy (v1)."""

    def __init__(self, name: str, directories: dict[str, Path], unified: bool):
        self.name = name
        self.directories = directories  # controller (or "unified") -> directory
        self.unified = unified
        self._oom_killed = False  # kept when it is removed

    @property
    def procs_files(self) -> list[Path]:
        return [directory / "cgroup.procs" for directory in self.directories.values()]

    def add(self, pid: int) -> None:
        """Move pid (and the children it makes from now on) into this cgroup."""
        for procs in self.procs_files:
            _write(procs, str(pid))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError):
                found |= {int(line) for line in procs.read_text().split()}
        return found

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process here for going over the memory limit."""
        with contextlib.suppress(OSError):
            self._oom_killed = self._oom_killed or self._read_oom_killed()
        return self._oom_killed

    def _read_oom_killed(self) -> bool:
        if self.unified:
            events = self.directories["unified"] / "memory.events"
            return _counter(events, "oom_kill") > 0
        memory = self.directories.get("memory")
        if memory is None:
            return False
        # kernels since 4.13 count kills; older ones only that the limit was hit
        control = memory / "memory.oom_control"
        if "oom_kill " in control.read_text():
            return _counter(control, "oom_kill") > 0
        return int((memory / "memory.failcnt").read_text()) > 0

    def signal_all(self) -> bool:
        """SIGKILL everything in it now; whether anything was left to kill."""
        kill_file = self.directories.get("unified", Path("/nonexistent")) / "cgroup.kill"
        if kill_file.exists():
            _write(kill_file, "1")
        left = self.pids()
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return bool(left)

    async def release(self) -> None:
        """Kill everything in it (detached processes too), then remove it."""
        for _ in range(KILL_ROUNDS):
            if not self.signal_all():
                break
            await asyncio.sleep(0.01)  # a forking loop may have made new ones meanwhile
        self.remove()

    def remove(self) -> None:
        """Remove it once empty. The kernel refuses while a process is left: then it
        stays, and is taken over when a cgroup of its name is made again."""
        self.oom_killed()
        for directory in self.directories.values():
            with contextlib.suppress(OSError):
                directory.rmdir()


def _counter(path: Path, name: str) -> int:
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == name:
            return int(value)
    return 0


class Cgroups:
    """Makes cgroups under one parent group (`labdeck`, or a name of the caller's)."""

    def __init__(self, parent: str = "labdeck", root: Path = ROOT):
        self.parent = parent
        self.root = root
        self.unified = (root / "cgroup.controllers").exists()

    def _parents(self) -> dict[str, Path]:
        if self.unified:
            return {"unified": self.root / _own_cgroup("").lstrip("/") / self.parent}
        return {
            controller: self.root / controller / _own_cgroup(controller).lstrip("/") / self.parent
            for controller in V1_CONTROLLERS
        }

    def available(self) -> str | None:
        """None when limits can be enforced here; else why not, for the start log."""
        try:
            for parent in self._parents().values():
                parent.mkdir(parents=True, exist_ok=True)
                if not os.access(parent, os.W_OK):
                    return f"{parent} is not writable"
            if self.unified:
                self._enable_controllers()
        except OSError as e:
            return f"no writable cgroup ({e.strerror}: {e.filename})"
        return None

    def _enable_controllers(self) -> None:
        parent = self._parents()["unified"]
        wanted = {"cpu", "memory", "pids"}
        for directory in (parent.parent, parent):
            available = set((directory / "cgroup.controllers").read_text().split())
            enable = " ".join(f"+{c}" for c in sorted(wanted & available))
            if enable:
                _write(directory / "cgroup.subtree_control", enable)

    def existing(self, name: str) -> Cgroup | None:
        """A cgroup made before (by a service that has since restarted), if it is there."""
        directories = {key: parent / name for key, parent in self._parents().items()}
        if not all(d.is_dir() for d in directories.values()):
            return None
        return Cgroup(name, directories, self.unified)

    def create(self, name: str, limits: Limits) -> Cgroup:
        """A new cgroup with these limits (an old one of the same name is taken over)."""
        reason = self.available()
        if reason is not None:
            raise CgroupError(reason)
        directories = {key: parent / name for key, parent in self._parents().items()}
        cgroup = Cgroup(name, directories, self.unified)
        # one left behind (its removal refused while a process was in it) is taken over
        cgroup.signal_all()
        try:
            for directory in directories.values():
                directory.mkdir(exist_ok=True)
            self._limit(cgroup, limits)
        except OSError as e:
            cgroup.remove()
            raise CgroupError(f"cannot set up cgroup {name}: {e}") from e
        return cgroup

    def _limit(self, cgroup: Cgroup, limits: Limits) -> None:
        d = cgroup.directories
        if self.unified:
            unified = d["unified"]
            if limits.cpu_cores is not None:
                quota = max(int(limits.cpu_cores * CPU_PERIOD_US), 1000)
                _write(unified / "cpu.max", f"{quota} {CPU_PERIOD_US}")
            if limits.memory_bytes is not None:
                _write(unified / "memory.max", str(limits.memory_bytes))
                with contextlib.suppress(FileNotFoundError):
                    _write(unified / "memory.swap.max", "0")
            if limits.pids is not None:
                _write(unified / "pids.max", str(limits.pids))
            return
        if limits.cpu_cores is not None:
            _write(d["cpu"] / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            quota = max(int(limits.cpu_cores * CPU_PERIOD_US), 1000)
            _write(d["cpu"] / "cpu.cfs_quota_us", str(quota))
        if limits.memory_bytes is not None:
            _write(d["memory"] / "memory.limit_in_bytes", str(limits.memory_bytes))
            swap = d["memory"] / "memory.memsw.limit_in_bytes"
            if swap.exists():  # memory + swap: no escaping the limit into swap
                _write(swap, str(limits.memory_bytes))
        if limits.pids is not None:
            _write(d["pids"] / "pids.max", str(limits.pids))

    def read_limits(self, cgroup: Cgroup) -> Limits:
        """The limits the kernel holds for a cgroup (what the tests check)."""
        d = cgroup.directories
        if self.unified:
            quota, period = (d["unified"] / "cpu.max").read_text().split()
            memory = (d["unified"] / "memory.max").read_text().strip()
            pids = (d["unified"] / "pids.max").read_text().strip()
            return Limits(
                None if quota == "max" else int(quota) / int(period),
                None if memory == "max" else int(memory),
                None if pids == "max" else int(pids),
            )
        quota = int((d["cpu"] / "cpu.cfs_quota_us").read_text())
        period = int((d["cpu"] / "cpu.cfs_period_us").read_text())
        memory = int((d["memory"] / "memory.limit_in_bytes").read_text())
        pids = (d["pids"] / "pids.max").read_text().strip()
        return Limits(
            None if quota < 0 else quota / period,
            None if memory >= 2**62 else memory,
            None if pids == "max" else int(pids),
        )
