"""Slurm's commands, asynchronously: submit a batch script with options, read a job's
state, cancel it, ask whether the controller answers.

General on purpose: training jobs, lab sessions and Spark clusters submit through it.
Each command runs with a small environment of its own (never the service's secrets),
SLURM_CONF from the settings, and a timeout; failures raise SlurmError with a message
for people, SlurmUnavailable when Slurm does not answer at all.
"""

import asyncio
import contextlib
import logging
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..supervisor import Account, child_environment
from .settings import SlurmSettings

# states in which a job is over (its processes gone: COMPLETING is not one)
ENDED_STATES = frozenset(
    {
        "BOOT_FAIL",
        "CANCELLED",
        "COMPLETED",
        "DEADLINE",
        "FAILED",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PREEMPTED",
        "REVOKED",
        "SPECIAL_EXIT",
        "TIMEOUT",
    }
)
# states in which a job waits for resources (nothing of it runs yet)
WAITING_STATES = frozenset(
    {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD"}
)
# what Slurm's commands print when they cannot reach or authenticate to the controller
UNREACHABLE = (
    "unable to contact slurm controller",
    "socket timed out",
    "connection refused",
    "could not establish a configuration source",
    "zero bytes were transmitted",
    "communication connection failure",
    "munge",
    "authentication",
    "unable to establish",
)
# squeue's and scontrol's words for a job it does not know (or no longer)
UNKNOWN_JOB = ("invalid job id", "does not exist")
# scancel's words for a job that has ended already
ALREADY_ENDED = ("already completing or completed", "invalid job id")
SQUEUE_FORMAT = "%i|%T|%r|%u|%j"
# a key of scontrol's KEY=VALUE output: "JobState", "CPUs/Task", "ReqB:S:C:T"
KEY = re.compile(r"[A-Za-z][A-Za-z0-9_:/]*")


class SlurmError(Exception):
    """Slurm refused or failed a request; the message is for people."""


class SlurmUnavailable(SlurmError):
    """Slurm does not answer: its controller is down or unreachable, munge fails, or its
    commands are not installed here."""


@dataclass(frozen=True)
class QueuedJob:
    """A job as squeue lists it."""

    job_id: str
    state: str  # PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, TIMEOUT, ...
    reason: str | None  # why it waits or why it ended (None: Slurm has none)
    user: str
    name: str

    @property
    def waiting(self) -> bool:
        return self.state in WAITING_STATES

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def waiting_reason(self) -> str:
        """What a resource waiting for it says: "Waiting in Slurm's queue: Resources"."""
        return "Waiting in Slurm's queue" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class JobDetails:
    """A job as `scontrol show job` describes it."""

    job_id: str
    state: str
    reason: str | None
    exit_code: int | None  # of the batch script (ExitCode=code:signal)
    exit_signal: int | None
    fields: dict[str, str] = field(default_factory=dict)  # all of scontrol's KEY=VALUE

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def waiting_reason(self) -> str:
        """What a resource waiting for it says: "Waiting in Slurm's queue: Resources"."""
        return "Waiting in Slurm's queue" + (f": {self.reason}" if self.reason else "")


def parse_scontrol(line: str) -> dict[str, str]:
    """KEY=VALUE pairs of one `scontrol -o show ...` line (a value may hold spaces)."""
    found: dict[str, str] = {}
    key = None
    for token in line.strip().split(" "):
        name, sep, value = token.partition("=")
        if sep and KEY.fullmatch(name):
            key, found[name] = name, value
        elif key is not None:
            found[key] += " " + token
    return found


def _reason(value: str) -> str | None:
    return None if value in ("", "None", "(null)") else value


def time_limit(seconds: float) -> str:
    """sbatch --time for a number of seconds: whole minutes, rounded up (Slurm keeps
    time limits in minutes)."""
    return str(max(1, math.ceil(seconds / 60)))


def resource_options(
    *,
    cpus: float | None = None,
    memory_bytes: int | None = None,
    gpus: int = 0,
    time_seconds: float | None = None,
) -> list[str]:
    """sbatch options for what one task needs: cores (rounded up), memory, GPUs and a
    time limit. None or 0 leaves the cluster's default."""
    options = []
    if cpus:
        options.append(f"--cpus-per-task={max(1, math.ceil(cpus))}")
    if memory_bytes:
        options.append(f"--mem={max(1, math.ceil(memory_bytes / 2**20))}M")
    if gpus:
        options.append(f"--gres=gpu:{gpus}")
    if time_seconds:
        options.append(f"--time={time_limit(time_seconds)}")
    return options


def _first_error(text: str) -> str:
    """The line of a command's output that says what went wrong, without its prefix."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()]
    line = (errors or lines or ["no message"])[-1]
    for prefix in ("error:", "fatal:"):
        if prefix in line:
            line = line.split(prefix, 1)[1].strip()
    return line[:300]


class Slurm:
    """Slurm's commands for one cluster, as its settings say."""

    def __init__(self, settings: SlurmSettings, log: logging.Logger | None = None):
        self.settings = settings
        self.log = log or logging.getLogger(__name__)

    # -- running a command ------------------------------------------------------------------
    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """base (default: what every labdeck child gets), plus SLURM_CONF."""
        env = dict(child_environment() if base is None else base)
        conf = self.settings.slurm_conf or os.environ.get("SLURM_CONF")
        if conf:
            env["SLURM_CONF"] = conf
        return env

    def argv(self, command: str, args: Iterable[str]) -> list[str]:
        program = str(Path(self.settings.bin_dir) / command) if self.settings.bin_dir else command
        return [*self.settings.command_prefix, program, *args]

    async def run(
        self,
        command: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
    ) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of a Slurm command. SlurmUnavailable when it is not
        installed or does not answer in time."""
        argv = self.argv(command, args)
        timeout = self.settings.command_timeout_seconds
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self.environment(env),
                cwd="/",
            )
        except OSError as e:
            raise SlurmUnavailable(
                f"Slurm's {command} cannot run here ({e.strerror or e}): is Slurm installed?"
            ) from e
        try:
            out, err = await asyncio.wait_for(
                proc.communicate(stdin.encode() if stdin is not None else None), timeout
            )
        except (TimeoutError, asyncio.CancelledError) as e:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            if isinstance(e, asyncio.CancelledError):
                raise
            raise SlurmUnavailable(
                f"Slurm does not answer ({command}: no reply within {timeout:g} s)."
            ) from None
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    async def _checked(self, command: str, *args: str, **kwargs) -> str:
        """stdout of a command that must succeed; SlurmError saying why it did not."""
        code, out, err = await self.run(command, *args, **kwargs)
        if code != 0:
            raise self.error(command, err or out)
        return out

    @staticmethod
    def error(command: str, text: str) -> SlurmError:
        detail = _first_error(text)
        if any(marker in text.lower() for marker in UNREACHABLE):
            return SlurmUnavailable(f"Slurm does not answer ({command}: {detail}).")
        return SlurmError(f"Slurm said: {detail}")

    # -- the commands -----------------------------------------------------------------------
    async def submit(
        self,
        script: str,
        options: Iterable[str] = (),
        *,
        account: Account | None = None,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """Submit a batch script (its text, on sbatch's stdin); the job's id.

        options: sbatch options (the partition and extra_sbatch_args of the settings are
        added). account: the OS account the job runs as; as root, sbatch --uid/--gid.
        env: the job's whole environment (the place for secrets: never the options).
        """
        args = ["--parsable", "--export=ALL"]
        if self.settings.partition:
            args.append(f"--partition={self.settings.partition}")
        if account is not None and account.uid != os.geteuid():
            if os.geteuid() != 0:
                raise SlurmError(
                    f"Only root can submit Slurm jobs as another account ({account.name})."
                )
            args += [f"--uid={account.uid}", f"--gid={account.gid}"]
        args += [*options, *self.settings.extra_sbatch_args]
        out = await self._checked("sbatch", *args, env=env, stdin=script)
        # --parsable: "<id>" or "<id>;<cluster>", after any warnings
        job_id = out.strip().splitlines()[-1].split(";")[0].strip() if out.strip() else ""
        if not job_id.isdigit():
            raise SlurmError(f"sbatch did not say which job it submitted: {out.strip()[:200]!r}")
        return job_id

    def _queued(self, out: str) -> list[QueuedJob]:
        jobs = []
        for line in out.splitlines():
            parts = line.split("|", 4)
            if len(parts) == 5:
                job_id, state, reason, user, name = parts
                jobs.append(QueuedJob(job_id, state.strip(), _reason(reason), user, name))
        return jobs

    async def queued(self, job_id: str) -> QueuedJob | None:
        """The job as squeue lists it; None when Slurm does not know it (or no longer:
        it forgets ended jobs after MinJobAge)."""
        code, out, err = await self.run(
            "squeue", "--noheader", "--states=all", f"--jobs={job_id}", f"--format={SQUEUE_FORMAT}"
        )
        if code != 0:
            if any(marker in err.lower() for marker in UNKNOWN_JOB):
                return None
            raise self.error("squeue", err or out)
        found = [job for job in self._queued(out) if job.job_id == str(job_id)]
        return found[0] if found else None

    async def find(self, name: str) -> list[QueuedJob]:
        """Jobs Slurm knows with this job name (--job-name), in any state."""
        out = await self._checked(
            "squeue", "--noheader", "--states=all", f"--name={name}", f"--format={SQUEUE_FORMAT}"
        )
        return self._queued(out)

    async def details(self, job_id: str) -> JobDetails | None:
        """`scontrol show job`: state, reason and exit code; None for a job Slurm does
        not know (or no longer)."""
        code, out, err = await self.run("scontrol", "--oneliner", "show", "job", str(job_id))
        if code != 0:
            if any(marker in err.lower() for marker in UNKNOWN_JOB):
                return None
            raise self.error("scontrol", err or out)
        lines = [line for line in out.splitlines() if line.strip()]
        if not lines:
            return None
        fields = parse_scontrol(lines[0])
        exit_code = exit_signal = None
        code_text, _, signal_text = fields.get("ExitCode", "").partition(":")
        if code_text.isdigit():
            exit_code = int(code_text)
        if signal_text.isdigit():
            exit_signal = int(signal_text) or None
        return JobDetails(
            fields.get("JobId", str(job_id)),
            fields.get("JobState", ""),
            _reason(fields.get("Reason", "")),
            exit_code,
            exit_signal,
            fields,
        )

    async def cancel(self, job_id: str, signal: str | None = None) -> None:
        """scancel: end the job (or send it a signal, e.g. "USR1"). A job that has
        already ended is not an error."""
        args = [*((f"--signal={signal}", "--full") if signal else ()), str(job_id)]
        code, out, err = await self.run("scancel", *args)
        text = (err or out).lower()
        if code != 0 or "error" in text:
            if any(marker in text for marker in ALREADY_ENDED):
                return
            raise self.error("scancel", err or out)

    async def wait_ended(self, job_id: str, timeout: float, interval: float = 0.25):
        """Wait until Slurm says the job is over (COMPLETING is not over: its processes
        are being killed); its details (None once Slurm forgot it). TimeoutError."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            queued = await self.queued(job_id)
            if queued is None:
                return None
            if queued.ended:
                return await self.details(job_id)
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Slurm job {job_id} is still {queued.state}")
            await asyncio.sleep(interval)

    async def wait_started(self, job_id: str, report: Callable[[str], None]) -> QueuedJob | None:
        """Until Slurm runs the job (or it ended), calling report(why it waits) each time
        that changes: "Waiting in Slurm's queue: Resources", or that Slurm does not
        answer. The job as squeue last listed it; None once Slurm forgot it."""
        shown = None
        while True:
            try:
                queued = await self.queued(job_id)
            except SlurmUnavailable as e:
                reason = f"Waiting for Slurm to answer: {e}"
            else:
                if queued is None or not queued.waiting:
                    return queued
                reason = queued.waiting_reason
            if reason != shown:
                report(reason)
                shown = reason
            await asyncio.sleep(self.settings.poll_interval_seconds)

    async def end(self, job_id: str | None, name: str, log_as: str) -> JobDetails | None:
        """scancel a job, or (its id never learnt: stopped while submitting) whatever was
        submitted under its name, and wait until Slurm says it is over; the details of the
        last one. Failures are logged as `log_as` (its time limit still ends it)."""
        job_ids = [job_id] if job_id else []
        if not job_ids:
            try:
                job_ids = [job.job_id for job in await self.find(name)]
            except SlurmError as e:
                self.log.error("%s: cannot look for it in Slurm: %s", log_as, e)
        final = None
        for one in job_ids:
            try:
                await self.cancel(one)
                final = await self.wait_ended(one, self.settings.stop_timeout_seconds)
            except (SlurmError, TimeoutError) as e:
                self.log.error("%s: Slurm job %s could not be stopped: %s", log_as, one, e)
        return final

    async def ping(self) -> str:
        """What `scontrol ping` says of the controller; SlurmUnavailable unless it is UP."""
        code, out, err = await self.run("scontrol", "ping")
        if code == 0 and " is UP" in out:
            return out.strip()
        down = [line for line in out.splitlines() if " is DOWN" in line]
        if down:  # "Slurmctld(primary) at head1 is DOWN", then a banner
            raise SlurmUnavailable(f"Slurm does not answer (scontrol ping: {down[0].strip()}).")
        raise self.error("scontrol ping", err or out)

    async def nodes(self) -> list[dict]:
        """One entry per node and partition (sinfo): name, state, cpus, memory_mb, gres,
        partition."""
        out = await self._checked("sinfo", "--noheader", "--Node", "--format=%N|%T|%c|%m|%G|%P")
        rows = []
        for line in out.splitlines():
            parts = line.split("|")
            if len(parts) == 6:
                name, state, cpus, memory, gres, partition = parts
                rows.append(
                    {
                        "name": name,
                        "state": state,
                        "cpus": int(cpus) if cpus.isdigit() else None,
                        "memory_mb": int(memory) if memory.isdigit() else None,
                        "gres": None if gres == "(null)" else gres,
                        "partition": partition.rstrip("*"),
                        "default": partition.endswith("*"),
                    }
                )
        return rows
