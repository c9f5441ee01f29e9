"""A training job as a local process tree: the runner (jobs/runner.py) started through
the supervisor as the owner's account, in a cgroup with its profile's CPU and memory.

The service's own folder for the job (`<state>/jobs/<id>`, root's alone) holds only the
runner's own output; the job's folder in the owner's home is made and written by the
runner as the account, and read by the service without following links (jobs/files.py).
"""

import json
import signal
import sys
from pathlib import Path

from ..cgroups import Cgroup, Limits
from ..service.resources import Progress, ResourceBackend
from ..supervisor import ProcessRecord, Supervised
from .files import read_bytes
from .runner import SPEC_ENV

# a job's threads and processes (data loaders, compilers) count against this
JOB_PIDS = 4096


def job_parts(resource_id: str, name: str = "") -> tuple[str, ...]:
    """A job's folder (or a file in it), relative to its owner's home."""
    return ("labdeck", "jobs", resource_id, *((name,) if name else ()))


# What every job backend shares: what the runner is told, what the job sees of labdeck,
# and how the runner's exit record reads for people.
def runner_settings(resource_id: str, spec: dict) -> dict:
    """The runner's settings (passed in its environment as $LABDECK_JOB)."""
    return {
        "folder": str(Path(spec["home"]).joinpath(*job_parts(resource_id))),
        "argv": spec["argv"],
        "notebook": spec.get("notebook"),
        "parameters": spec.get("parameters") or {},
        "cwd": spec["cwd"],
        "env": spec["env"],
        "metric_definitions": spec["metric_definitions"],
    }


def job_environment(resource_id: str, spec: dict) -> dict[str, str]:
    """What the runner and the job see of labdeck: the job, its profile, its GPUs."""
    devices = ",".join(spec.get("gpus") or [])
    return {
        "LABDECK_JOB_ID": resource_id,
        "LABDECK_PROFILE": spec["profile"],
        # an empty list hides every GPU from CUDA: a CPU job sees none
        "CUDA_VISIBLE_DEVICES": devices,
        "NVIDIA_VISIBLE_DEVICES": devices or "void",
    }


def read_exit_record(home: Path, resource_id: str) -> dict | None:
    """What the runner wrote when the job ended (its exit code or signal)."""
    found = read_bytes(home, job_parts(resource_id, "exit.json"), 0, 4096)
    try:
        record = json.loads(found[0]) if found else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def describe_exit(code, sig, failure=None) -> tuple[int | None, str] | None:
    """(exit code, why it ended, for people) from an exit code or a signal; None when
    neither is known."""
    if isinstance(sig, int) and not isinstance(sig, bool):
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return None, f"Killed by signal {name}."
    if isinstance(code, int) and not isinstance(code, bool):
        if code == 0:
            return 0, "Completed."
        where = f" ({failure[:300]})" if isinstance(failure, str) and failure else ""
        return code, f"Failed with exit code {code}{where}."
    return None


NO_EXIT_STATUS = "The job ended without an exit status; see its log."
OUT_OF_MEMORY = "Out of memory: the job went over its profile's memory limit."


class LocalJobBackend(ResourceBackend):
    """One job: the runner and whatever the job starts, in one group and cgroup."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.process: Supervised | None = None
        self.cgroup: Cgroup | None = None

    @property
    def home(self) -> Path:
        return Path(self.spec["home"])

    def get_state(self) -> dict:
        return {
            "process": self.process.record.to_json() if self.process else None,
            "cgroup": self.cgroup.name if self.cgroup else None,
        }

    def load_state(self, state: dict) -> None:
        if state.get("cgroup"):
            self.cgroup = self.supervisor.find_limit(state["cgroup"])
        if state.get("process"):
            record = ProcessRecord.from_json(state["process"])
            self.process = self.supervisor.adopt(record, self.work_dir / "runner.log", self.cgroup)

    def limits(self) -> Limits:
        return Limits(self.spec.get("cpu_limit"), self.spec.get("memory_bytes"), JOB_PIDS)

    def environment(self) -> dict[str, str]:
        return job_environment(self.resource_id, self.spec)

    async def start(self, progress: Progress) -> None:
        # the service's folder: nobody else's to enter
        self.work_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.work_dir.mkdir(mode=0o700, exist_ok=True)
        self.cgroup = self.supervisor.limit(f"job-{self.resource_id}", self.limits())
        runner = runner_settings(self.resource_id, self.spec)
        progress("Starting", 0, 1)
        self.process = await self.supervisor.start(
            "job",
            [sys.executable, "-m", "labdeck.jobs.runner"],
            log_path=self.work_dir / "runner.log",
            env={SPEC_ENV: json.dumps(runner), **self.environment()},
            cwd=Path("/"),
            account=self.account,
            cgroup=self.cgroup,
        )
        progress("Starting", 1, 1)  # saves its process record

    def exit_record(self) -> dict | None:
        return read_exit_record(self.home, self.resource_id)

    def ended(self) -> tuple[int | None, str]:
        """(exit code, why it ended, for people) once the runner has exited."""
        if self.cgroup is not None and self.cgroup.oom_killed():
            return None, OUT_OF_MEMORY
        record = self.exit_record() or {}
        code, sig = record.get("code"), record.get("signal")
        if code is None and sig is None and self.process and self.process.exit_status:
            code, sig = self.process.exit_status.code, self.process.exit_status.signal
        return describe_exit(code, sig, record.get("failure")) or (None, NO_EXIT_STATUS)

    def runner_tail(self) -> list[str]:
        return self.process.tail(64 * 1024)[-5:] if self.process else []

    async def poll(self) -> str | None:
        if self.process is not None and self.process.running():
            return None
        return self.ended()[1]

    async def stop(self) -> None:
        """TERM to the job's group, a grace period, KILL; then whatever is left in its
        cgroup."""
        if self.process is not None:
            await self.supervisor.terminate([self.process])
        await self.supervisor.release(self.cgroup)
