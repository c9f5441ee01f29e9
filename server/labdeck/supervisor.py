"""The one process supervisor: everything labdeck runs for users starts and stops here.

Spark masters and workers, Livy drivers, training jobs and model servers are each a
command started in a process group of its own (so the service can restart without
taking them down, and a stop reaches every child), optionally as another OS account,
with its output in a log file. What is needed to find a process again after a restart
is a `ProcessRecord`: its pid and the kernel's start time of that pid, which tells a
re-used pid from ours. Stopping is SIGTERM to the group, a grace period, then SIGKILL,
awaited without blocking the event loop.
"""

import asyncio
import contextlib
import errno
import os
import pwd
import signal
import stat
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .cgroups import Cgroup, CgroupError, Cgroups, Limits

# All a child takes from the service's own environment: enough to find programs, speak
# the locale and be found by `labdeck up`'s sweep. Never the service's hub token, its
# cookie secret or anything else the service was given.
INHERITED_ENVIRONMENT = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "JAVA_HOME",
    "LABDECK_INSTANCE",
)
# Runs a command only once the supervisor has put it in its cgroup and said "go" on its
# stdin (a pipe): nothing it starts is outside its limits, whatever account it runs as.
JOIN_CGROUP_FIRST = 'read -r go && [ "$go" = go ] && exec "$@" </dev/null'
READY_POLL_SECONDS = 0.1
STOP_POLL_SECONDS = 0.05
DEFAULT_GRACE_SECONDS = 10.0
KILL_WAIT_SECONDS = 5.0

ReadyCheck = Callable[[], Awaitable[bool]]


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: fields start after the last ')'
    return text.rsplit(")", 1)[1].split()


def read_start_time(pid: int) -> int | None:
    """When the kernel started pid (clock ticks since boot), or None if there is no pid."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def _state(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[0] if fields else None


@dataclass(frozen=True)
class ProcessRecord:
    """Enough to find a supervised process again: saved with the resource it belongs to."""

    name: str
    pid: int
    # None only for records written before start times were kept: then the pid is trusted.
    start_time: int | None

    def to_json(self) -> dict:
        return {"name": self.name, "pid": self.pid, "start_time": self.start_time}

    @classmethod
    def from_json(cls, data: dict) -> "ProcessRecord":
        return cls(data.get("name", ""), int(data["pid"]), data.get("start_time"))

    def is_ours(self) -> bool:
        """pid exists and is the process this record was made for (not a re-used pid)."""
        started = read_start_time(self.pid)
        return started is not None and self.start_time in (None, started)

    def is_running(self) -> bool:
        return self.is_ours() and _state(self.pid) != "Z"


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended: its exit code, or the signal that killed it."""

    code: int | None = None
    signal: int | None = None

    @classmethod
    def from_returncode(cls, returncode: int) -> "ExitStatus":
        return cls(signal=-returncode) if returncode < 0 else cls(code=returncode)

    def describe(self) -> str:
        if self.signal is not None:
            return f"killed by {signal.Signals(self.signal).name}"
        return f"exited with code {self.code}"


@dataclass(frozen=True)
class Account:
    """An OS account to run a process as."""

    name: str
    uid: int
    gid: int
    home: str

    @classmethod
    def named(cls, name: str) -> "Account":
        entry = pwd.getpwnam(name)
        return cls(name, entry.pw_uid, entry.pw_gid, entry.pw_dir)

    def groups(self) -> list[int]:
        return os.getgrouplist(self.name, self.gid)

    def environment(self) -> dict[str, str]:
        return {"USER": self.name, "LOGNAME": self.name, "HOME": self.home}


def child_environment(account: Account | None = None) -> dict[str, str]:
    """The environment every supervised process starts from."""
    env = {name: os.environ[name] for name in INHERITED_ENVIRONMENT if name in os.environ}
    env.setdefault("PATH", os.defpath)
    if account is not None:
        env.update(account.environment())
    return env


class NotReady(Exception):
    """A process exited, or did not get ready in time; the message says which."""


def open_own_file(path: Path, flags: int = os.O_RDONLY, mode: int = 0o600) -> int:
    """A file descriptor of path, refusing a symlink: the folders of user code's logs and
    ready files belong to the user's account, which must not point the service (root) at
    a file of its choosing to read or write, nor hang it on a FIFO."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{path} is not a regular file")
    os.set_blocking(fd, True)
    return fd


def read_own_text(path: Path) -> str:
    with os.fdopen(open_own_file(path), errors="replace") as f:
        return f.read()


def tail_lines(path: Path, max_bytes: int | None = None) -> list[str]:
    """The lines of a log file; with max_bytes, only those in its last max_bytes."""
    try:
        with os.fdopen(open_own_file(path), "rb") as f:
            if max_bytes is not None and f.seek(0, os.SEEK_END) > max_bytes:
                f.seek(-max_bytes, os.SEEK_END)
                f.readline()  # drop the partial first line
            else:
                f.seek(0)
            return f.read().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return []
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EINVAL):  # planted in the user's folder: not read
            return []
        raise


def file_exists(path: Path) -> ReadyCheck:
    """Ready once path exists (a process writes it when it is up)."""

    async def check() -> bool:
        return path.exists()

    return check


def http_answers(url: str, timeout: float = 2.0) -> ReadyCheck:
    """Ready once url answers a GET with any HTTP status below 500."""

    def fetch() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                return response.status < 500
        except urllib.error.HTTPError as e:
            return e.code < 500
        except OSError:
            return False

    async def check() -> bool:
        return await asyncio.to_thread(fetch)

    return check


class Supervised:
    """One supervised process (and its group): started here, or adopted after a restart."""

    def __init__(
        self,
        record: ProcessRecord,
        log_path: Path | None,
        process: asyncio.subprocess.Process | None = None,
        cgroup: Cgroup | None = None,
    ):
        self.record = record
        self.log_path = log_path
        self.cgroup = cgroup
        self._process = process
        self._exit: ExitStatus | None = None
        self._waiter: asyncio.Task | None = None
        if process is not None:
            # reaps it when it exits (no zombie) and keeps how it ended
            self._waiter = asyncio.create_task(self._reap(process))

    async def _reap(self, process: asyncio.subprocess.Process) -> None:
        self._exit = ExitStatus.from_returncode(await process.wait())

    @property
    def pid(self) -> int:
        return self.record.pid

    @property
    def exit_status(self) -> ExitStatus | None:
        """How it ended; None while it runs, and for an adopted process (not our child)."""
        return self._exit

    def running(self) -> bool:
        if self._process is not None and self._exit is not None:
            return False
        return self.record.is_running()

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until it has exited; whether it did within timeout."""
        if self._waiter is not None:
            done, _ = await asyncio.wait({self._waiter}, timeout=timeout)
            return bool(done)
        give_up = None if timeout is None else time.monotonic() + timeout
        while self.running():
            if give_up is not None and time.monotonic() >= give_up:
                return False
            await asyncio.sleep(STOP_POLL_SECONDS)
        return True

    async def wait_ready(
        self, check: ReadyCheck, timeout: float, poll: float = READY_POLL_SECONDS
    ) -> None:
        """Return once check() is true (asked every `poll` seconds); NotReady if the
        process exits or time runs out."""
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if await check():
                return
            if not self.running():
                await self.wait(1)  # our child: learn how it ended
                status = self.exit_status
                raise NotReady(
                    f"{self.record.name} {status.describe() if status else 'exited'} "
                    "while starting."
                )
            await asyncio.sleep(poll)
        raise NotReady(f"{self.record.name} did not get ready within {timeout:.0f} s.")

    def tail(self, max_bytes: int | None = None) -> list[str]:
        return tail_lines(self.log_path, max_bytes) if self.log_path else []

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of its cgroup for going over its memory."""
        return self.cgroup is not None and self.cgroup.oom_killed()

    def group_running(self) -> bool:
        """Any process of its group is left (the leader may have exited before the rest)."""
        if not self._group_is_ours():
            return False
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _group_is_ours(self) -> bool:
        leader = read_start_time(self.pid)
        return leader is None or self.record.start_time in (None, leader)

    def signal_group(self, sig: int) -> None:
        """Signal the whole group, unless its pid now belongs to someone else.

        While any member of the group lives, the kernel does not re-use its id: a group
        whose leader is gone can still be signalled safely.
        """
        if not self._group_is_ours():
            return
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Supervisor:
    """Starts, adopts and stops supervised processes, each tree in a cgroup if asked."""

    def __init__(self, log, cgroups: Cgroups | None = None):
        self.log = log
        self.cgroups = cgroups
        self._no_limits: str | None = None
        if cgroups is not None:
            self._no_limits = cgroups.available()
            if self._no_limits:
                log.warning("CPU and memory limits are not enforced: %s", self._no_limits)

    @property
    def limits_enforced(self) -> bool:
        return self.cgroups is not None and self._no_limits is None

    def limit(self, name: str, limits: Limits) -> Cgroup | None:
        """A cgroup for one session's or resource's processes (None: limits not enforced)."""
        if not self.limits_enforced:
            return None
        return self.cgroups.create(name, limits)

    def find_limit(self, name: str) -> Cgroup | None:
        """The cgroup made by `limit` before a restart, if limits are enforced."""
        return self.cgroups.existing(name) if self.limits_enforced else None

    async def release(self, cgroup: Cgroup | None) -> None:
        """Kill whatever is left in a cgroup (detached processes too), then remove it."""
        if cgroup is not None:
            await cgroup.release()

    async def start(
        self,
        name: str,
        argv: list[str],
        *,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        account: Account | None = None,
        cgroup: Cgroup | None = None,
    ) -> Supervised:
        """Start argv in a new process group, its output appended to log_path.

        Its environment is `child_environment(account)` plus env: nothing else of the
        service's. With an account, it runs as that account (uid, gid and its groups);
        with a cgroup, it is in that cgroup before it runs a single instruction of argv.
        """
        log_path.parent.mkdir(parents=True, exist_ok=True)
        identity = {}
        if account is not None:
            identity = {
                "user": account.uid,
                "group": account.gid,
                "extra_groups": account.groups(),
            }
        handshake: tuple[int, int] | None = None
        if cgroup is not None:
            handshake = os.pipe()
            argv = ["/bin/sh", "-c", JOIN_CGROUP_FIRST, name, *argv]
        log_fd = open_own_file(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        with os.fdopen(log_fd, "ab") as output:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=handshake[0] if handshake else asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                env={**child_environment(account), **(env or {})},
                cwd=cwd,
                # its own session and group: outlives a service restart, stops as one
                start_new_session=True,
                **identity,
            )
        record = ProcessRecord(name, process.pid, read_start_time(process.pid))
        if handshake is not None:
            self._join(cgroup, process, handshake)
        self.log.debug("Started %s (pid %s): %s", name, process.pid, " ".join(argv))
        return Supervised(record, log_path, process, cgroup)

    def _join(self, cgroup: Cgroup, process, handshake: tuple[int, int]) -> None:
        read_end, write_end = handshake
        os.close(read_end)
        try:
            cgroup.add(process.pid)
            os.write(write_end, b"go\n")
        except OSError as e:
            process.kill()
            raise CgroupError(f"cannot put {process.pid} in cgroup {cgroup.name}: {e}") from e
        finally:
            os.close(write_end)

    def adopt(
        self, record: ProcessRecord, log_path: Path | None = None, cgroup: Cgroup | None = None
    ) -> Supervised:
        """A process started before a restart (`running()` tells whether it still is)."""
        return Supervised(record, log_path, cgroup=cgroup)

    async def terminate(
        self, processes: Iterable[Supervised], grace: float = DEFAULT_GRACE_SECONDS
    ) -> None:
        """SIGTERM every group (in the order given), wait up to grace, SIGKILL the rest.

        Returns once every group is gone and the exit status of each child is known.
        """
        processes = list(processes)
        left = await _stop(
            processes, lambda p, sig: p.signal_group(sig), Supervised.group_running, grace
        )
        for process in left:
            self.log.warning("%s did not stop in %.0f s: killed", process.record.name, grace)
        await asyncio.gather(*(p.wait(KILL_WAIT_SECONDS) for p in processes))


async def end_pids(pids: Iterable[int], grace: float = DEFAULT_GRACE_SECONDS) -> None:
    """SIGTERM single processes, wait up to grace, SIGKILL what is left (the sweep of
    `labdeck up` for processes it finds by their marker)."""

    def send(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)

    await _stop(list(pids), send, lambda pid: _state(pid) not in (None, "Z"), grace)


async def _stop(targets: list, send, alive, grace: float) -> list:
    """TERM all, wait for them, KILL those left (returned); never blocks the loop."""
    for target in targets:
        send(target, signal.SIGTERM)
    left = await _wait_gone(targets, alive, grace)
    for target in left:
        send(target, signal.SIGKILL)
    await _wait_gone(left, alive, KILL_WAIT_SECONDS)
    return left


async def _wait_gone(targets: list, alive, timeout: float) -> list:
    give_up = time.monotonic() + timeout
    left = [t for t in targets if alive(t)]
    while left and time.monotonic() < give_up:
        await asyncio.sleep(STOP_POLL_SECONDS)
        left = [t for t in left if alive(t)]
    return left
