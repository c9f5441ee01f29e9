"""A training job as a Slurm batch job: the same runner (jobs/runner.py) as a local job,
submitted with sbatch as the owner's account (root submits with --uid/--gid).

The runner gets its settings as it does locally, in its environment ($LABDECK_JOB):
sbatch passes its own environment to the job, so nothing of the job is on a command
line. The runner writes the job's output, metrics and exit record in the owner's home
(`~/labdeck/jobs/<id>`), which the service reads as for a local job: homes are shared
between the service and the compute nodes. Slurm opens the batch script's own output
as the owner's account, so it goes in a folder of the account's inside the service's
folder for the job (`<state>/jobs/<id>/slurm/`), where only that account can pass.

While Slurm has the job PENDING, it is waiting (its state_reason is Slurm's reason);
it runs once Slurm runs it. Its end is the runner's exit record, or Slurm's word when
the runner could not write one (time limit, node failure, a launch that failed).
"""

import json
import shlex
import signal
import sys
import time
from pathlib import Path

from ..service.resources import Progress, ResourceBackend, StartFailed
from ..slurm import (
    JobDetails,
    Slurm,
    SlurmError,
    SlurmSettings,
    SlurmUnavailable,
    resource_options,
)
from ..supervisor import child_environment
from .files import read_bytes
from .local import (
    NO_EXIT_STATUS,
    OUT_OF_MEMORY,
    describe_exit,
    job_environment,
    read_exit_record,
    runner_settings,
)
from .runner import SPEC_ENV

# how a job Slurm ended reads for people, when Slurm's word explains the end better
# than the runner's record (which shows the signal Slurm sent)
SLURM_ENDINGS = {
    "TIMEOUT": "Max runtime exceeded: Slurm stopped the job at its time limit.",
    "DEADLINE": "Slurm stopped the job at its deadline.",
    "CANCELLED": "Cancelled in Slurm (scancel), not through labdeck.",
    "NODE_FAIL": "The Slurm node running the job failed.",
    "BOOT_FAIL": "The Slurm node for the job failed to boot.",
    "PREEMPTED": "Slurm preempted the job for another one.",
    "OUT_OF_MEMORY": OUT_OF_MEMORY,
}
# labdeck's own check stops a job at its max runtime to the second; Slurm's --time
# (whole minutes) is the second line of defence, also while the service is down
TIME_LIMIT_GRACE_SECONDS = 60
SLURM_OUTPUT = ("slurm", "slurm.out")
SIGNALS = frozenset(signal.Signals)


class SlurmJobBackend(ResourceBackend):
    """One job: one Slurm batch job running the runner."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.settings = SlurmSettings(parent=self)
        self.slurm = Slurm(self.settings, self.log)
        self.job_id: str | None = None
        # once Slurm says the job is over: what it says (None if it forgot the job)
        self.final: JobDetails | None = None
        self.over = False
        self._polled = 0.0

    @property
    def home(self) -> Path:
        return Path(self.spec["home"])

    @property
    def job_name(self) -> str:
        """Its name in Slurm, unique: how a submission whose id was not saved is found."""
        return f"labdeck-{self.resource_id}"

    def get_state(self) -> dict:
        return {"slurm_job_id": self.job_id}

    def load_state(self, state: dict) -> None:
        self.job_id = state.get("slurm_job_id")

    # -- submitting ---------------------------------------------------------------------------
    def script(self) -> str:
        runner = shlex.join([sys.executable, "-m", "labdeck.jobs.runner"])
        return f"#!/bin/sh\n# labdeck training job {self.resource_id}\nexec {runner}\n"

    def options(self) -> list[str]:
        gpus = len(self.spec.get("gpus") or [])
        return [
            f"--job-name={self.job_name}",
            f"--chdir={self.spec['cwd']}",
            f"--output={self.work_dir.joinpath(*SLURM_OUTPUT)}",
            # a job that lost its node ends (NODE_FAIL) rather than runs again from the start
            "--no-requeue",
            "--nodes=1",
            "--ntasks=1",
            *resource_options(
                cpus=self.spec.get("cpu_limit"),
                memory_bytes=self.spec.get("memory_bytes"),
                gpus=gpus,
                time_seconds=self.spec["max_runtime_seconds"] + TIME_LIMIT_GRACE_SECONDS,
            ),
        ]

    def environment(self) -> dict[str, str]:
        """The job's whole environment, as sbatch passes it on: the runner's settings
        (with the job's own variables), what labdeck tells every job, the account's."""
        env = {
            **child_environment(self.account),
            **job_environment(self.resource_id, self.spec),
            SPEC_ENV: json.dumps(runner_settings(self.resource_id, self.spec)),
        }
        if self.spec.get("gpus"):
            # Slurm gives the job its GPUs (--gres) and says which in CUDA_VISIBLE_DEVICES
            env.pop("CUDA_VISIBLE_DEVICES")
            env.pop("NVIDIA_VISIBLE_DEVICES")
        return env

    def make_folders(self) -> None:
        """The service's folder for the job, which the account may only pass through to
        its own folder inside, where Slurm writes the batch script's output."""
        self.work_dir.parent.mkdir(parents=True, exist_ok=True)
        self.work_dir.parent.chmod(0o711)
        self.make_passable_dir(self.work_dir)
        self.make_private_dir(self.work_dir / SLURM_OUTPUT[0])

    async def start(self, progress: Progress) -> None:
        try:
            if self.job_id is None:
                await self.submit(progress)
        except SlurmUnavailable as e:
            raise StartFailed(f"{e} Try again later, or tell an admin.") from e
        except SlurmError as e:
            raise StartFailed(f"Slurm did not take the job. {e}") from e
        progress("Submitted to Slurm", 0, 1)  # saves its Slurm job id
        await self.wait_running(progress)

    async def submit(self, progress: Progress) -> None:
        # submitted before the service stopped, its id not saved yet: take it back
        found = await self.slurm.find(self.job_name)
        if found:
            self.job_id = found[0].job_id
            return
        self.make_folders()
        progress("Submitting to Slurm", 0, 1)
        self.job_id = await self.slurm.submit(
            self.script(), self.options(), account=self.account, env=self.environment()
        )
        self.log.info("Job %s is Slurm job %s", self.resource_id, self.job_id)

    async def wait_running(self, progress: Progress) -> None:
        """Until Slurm runs the job (or it has ended already), saying why it waits."""
        await self.slurm.wait_started(
            self.job_id, lambda reason: progress("Waiting in Slurm's queue", 0, 1, reason=reason)
        )
        progress("Starting", 1, 1, reason=None)

    # -- watching -------------------------------------------------------------------------------
    async def poll(self) -> str | None:
        if self.over:
            return self.ended()[1]
        if self.job_id is None:
            self.over = True
            return self.ended()[1]
        # the manager checks every second; Slurm is asked at its own pace
        now = time.monotonic()
        if now - self._polled < self.settings.poll_interval_seconds:
            return None
        self._polled = now
        try:
            queued = await self.slurm.queued(self.job_id)
            if queued is not None and not queued.ended:
                return None
            self.final = await self.slurm.details(self.job_id) if queued else None
        except SlurmUnavailable as e:
            # not a reason to fail a job that may well run: ask again later
            self.log.warning("Job %s: %s", self.resource_id, e)
            return None
        self.over = True
        return self.ended()[1]

    def slurm_output_tail(self) -> str:
        """The last line the batch script printed itself (the runner's own errors)."""
        found = read_bytes(self.work_dir, SLURM_OUTPUT, -2048, 2048)
        lines = found[0].decode(errors="replace").splitlines() if found else []
        lines = [line.strip() for line in lines if line.strip()]
        return lines[-1][:300] if lines else ""

    def ended(self) -> tuple[int | None, str]:
        """(exit code, why it ended, for people) once Slurm says the job is over."""
        final = self.final
        if final is not None and final.state in SLURM_ENDINGS:
            return None, SLURM_ENDINGS[final.state]
        record = read_exit_record(self.home, self.resource_id) or {}
        described = describe_exit(record.get("code"), record.get("signal"), record.get("failure"))
        if described is not None:
            return described
        # the runner wrote no record: it did not start, or was killed before the job ended
        said = self.slurm_output_tail()
        said = f" It said: {said}" if said else ""
        if final is None:
            if self.job_id is None:
                return None, "The job was never submitted to Slurm."
            return None, f"Slurm no longer knows the job, and it left no exit status.{said}"
        # Slurm says JobLaunchFailure both for a batch script killed by a signal and for
        # one it could not start (then with a signal number of its own, not a real one)
        if final.exit_signal in SIGNALS:
            return None, f"Killed by signal {signal.Signals(final.exit_signal).name} in Slurm."
        if final.state == "FAILED" and final.reason and final.reason != "NonZeroExitCode":
            return None, f"Slurm could not run the job ({final.reason}).{said}"
        if final.exit_code:
            return final.exit_code, f"Failed with exit code {final.exit_code} in Slurm.{said}"
        return None, NO_EXIT_STATUS

    async def stop(self) -> None:
        """scancel, then wait until Slurm says the job's processes are gone."""
        if self.over:
            return
        final = await self.slurm.end(self.job_id, self.job_name, f"Job {self.resource_id}")
        self.final = final or self.final
        self.over = True
