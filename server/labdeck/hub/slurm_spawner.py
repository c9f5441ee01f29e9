"""Labs as Slurm jobs: batchspawner's SlurmSpawner with labdeck's sessions around it.

The chosen runtime profile becomes the job's request (`--cpus-per-task`, `--mem`,
`--gres=gpu:N`) and its session limit the job's `--time`, a second line of defence
behind labdeck's own deadline. While Slurm keeps the job PENDING the spawn page says
why and where it is in the partition's queue. In isolation mode root submits the job
as the user's own OS account (`sbatch --uid/--gid`), so the lab runs as that account on
the compute node, with the same home as on the hub's machine (homes must be shared).
"""

import asyncio
import math
import os
import pwd
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from batchspawner import SlurmSpawner
from traitlets import Float, Unicode, default

from ..quota.profiles import Profile
from ..slurm import Slurm, SlurmError, SlurmSettings, time_limit
from .accounts_mixin import SystemAccountsMixin
from .quota_spawner import QuotaSpawnerMixin

# the lab's job: no `--get-user-env` (the environment is the spawner's, exported by name)
BATCH_SCRIPT = """#!/bin/bash
#SBATCH --output={{homedir}}/.labdeck/slurm-lab-%j.log
#SBATCH --job-name=labdeck-lab-{{username}}
#SBATCH --chdir={{homedir}}
#SBATCH --export={{keepvars}}
{% if partition  %}#SBATCH --partition={{partition}}
{% endif %}{% if runtime    %}#SBATCH --time={{runtime}}
{% endif %}{% if memory     %}#SBATCH --mem={{memory}}
{% endif %}{% if gres       %}#SBATCH --gres={{gres}}
{% endif %}{% if nprocs     %}#SBATCH --cpus-per-task={{nprocs}}
{% endif %}{% if options    %}#SBATCH {{options}}
{% endif %}
set -euo pipefail
{{prologue}}
{% if srun %}{{srun}} {% endif %}{{cmd}}
{{epilogue}}
"""
# Slurm's reasons for a PENDING job, as people read them
PENDING_REASONS = {
    "Resources": "waiting for resources",
    "Priority": "waiting behind jobs of higher priority",
    "None": "waiting to be scheduled",
    "BeginTime": "waiting for its start time",
    "QOSMaxCpuPerUserLimit": "waiting: your CPU limit in Slurm is reached",
    "ReqNodeNotAvail": "waiting: the nodes it needs are not available",
}


def queue_message(reason: str, position: int | None, partition: str) -> str:
    """`waiting for resources, position 2 in partition main`."""
    words = PENDING_REASONS.get(reason, f"waiting ({reason})")
    where = f"partition {partition}" if partition else "the queue"
    return f"{words}, position {position} in {where}" if position else words


class LabdeckSlurmSpawner(QuotaSpawnerMixin, SystemAccountsMixin, SlurmSpawner):
    """A user's JupyterLab as a Slurm job, with labdeck's quotas and ledger."""

    time_margin_seconds = Float(
        300,
        help="""Added to the session limit for the job's --time: labdeck stops the session
        at its deadline, Slurm only if labdeck could not.""",
    ).tag(config=True)

    queue_timeout_seconds = Float(
        3600,
        help="""Longest wait in Slurm's queue, added to the start timeout: a lab that waits
        for resources is not a failed start.""",
    ).tag(config=True)

    queue_poll_seconds = Float(
        2.0, help="How often the spawn page's queue position is read while PENDING."
    ).tag(config=True)

    @default("batch_script")
    def _batch_script_default(self):
        return BATCH_SCRIPT

    @default("exec_prefix")
    def _exec_prefix_default(self):
        return ""  # root submits with --uid instead of sudo

    @default("batch_submit_cmd")
    def _submit_default(self):
        if self.isolation:
            return "sbatch --parsable --uid={username} --gid={username}"
        return "sbatch --parsable"

    @default("req_srun")
    def _srun_default(self):
        return ""  # the lab is the job's one process

    @default("req_partition")
    def _partition_default(self):
        return self.slurm.settings.partition

    @default("req_username")
    def _username_default(self):
        return self.system_user if self.isolation else self.user.name

    @default("req_homedir")
    def _homedir_default(self):
        return self.home_dir

    @default("cmd")
    def _cmd_default(self):
        return [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]

    @default("batchspawner_singleuser_cmd")
    def _wrapper_default(self):
        return str(Path(sys.executable).with_name("batchspawner-singleuser"))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # where the cluster is (SLURM_CONF) and its partition: shared with the service
        self.slurm = Slurm(SlurmSettings(parent=self), self.log)

    @property
    def home_dir(self) -> str:
        return self.format_string(self.home_dir_template) if self.home_dir_template else ""

    home_dir_template = Unicode(
        help="The user's home, the job's working folder ({username} is the hub name).",
    ).tag(config=True)

    # -- what the mixin asks of a spawner -------------------------------------------------
    def apply_profile(self, profile: Profile) -> None:
        super().apply_profile(profile)  # cpu_limit, and mem_limit in bytes
        self.req_nprocs = str(max(1, math.ceil(self.cpu_limit or 1)))
        self.req_memory = f"{math.ceil(self.mem_limit / 2**20)}M" if self.mem_limit else ""
        self.req_gres = f"gpu:{profile.gpus}" if profile.gpus else ""
        deadline = self.session_env.get("LABDECK_SESSION_DEADLINE")
        self.req_runtime = ""  # no deadline: the partition's own limit
        if deadline:
            when = datetime.fromisoformat(deadline)
            if when.tzinfo is None:  # the ledger keeps UTC
                when = when.replace(tzinfo=UTC)
            left = when - datetime.now(UTC)
            self.req_runtime = time_limit(left.total_seconds() + self.time_margin_seconds)

    async def launch_server(self):
        if self.isolation:
            await self.prepare_system_user()
        # Slurm writes the job's own output there, as the account
        log_dir = Path(self.home_dir) / ".labdeck"
        log_dir.mkdir(exist_ok=True)
        if self.isolation:
            account = pwd.getpwnam(self.system_user)
            os.chown(log_dir, account.pw_uid, account.pw_gid)
        watcher = asyncio.ensure_future(self._report_queue())
        try:
            return await super().launch_server()
        finally:
            watcher.cancel()

    async def run_command(self, cmd, input=None, env=None):
        """batchspawner's sbatch, squeue and scancel, against the configured cluster."""
        return await super().run_command(cmd, input, self.slurm.environment(env or os.environ))

    def run_pre_spawn_hook(self):
        result = super().run_pre_spawn_hook()
        self.start_timeout += self.queue_timeout_seconds
        return result

    def make_preexec_fn(self, name):
        return None  # sbatch runs as the hub's account; --uid says whose job it is

    def get_env(self):
        env = super().get_env()
        if self.req_gres:
            # Slurm gives the job its GPUs and says which in CUDA_VISIBLE_DEVICES itself;
            # labdeck's pool only counts them
            env.pop("CUDA_VISIBLE_DEVICES", None)
            env.pop("NVIDIA_VISIBLE_DEVICES", None)
        return env

    def user_env(self, env):
        env["USER"] = self.req_username
        env["HOME"] = self.home_dir
        env["SHELL"] = "/bin/bash"
        return env

    def state_gethost(self):
        """The node the lab runs on; a lab on the hub's own node listens on loopback."""
        host = super().state_gethost()
        return "127.0.0.1" if host in (socket.gethostname(), "localhost") else host

    async def _report_queue(self) -> None:
        """While the job waits, say why and where in the queue, on the spawn page."""
        said = None
        while True:
            await asyncio.sleep(self.queue_poll_seconds)
            if not self.job_id or not self.state_ispending():
                continue
            message = await self._queue_message()
            if message and message != said:
                self.report_progress(60, f"Slurm job {self.job_id} is {message}.")
                said = message

    async def _queue_message(self) -> str | None:
        try:
            job = await self.slurm.queued(self.job_id)
            code, out, _ = await self.slurm.run(
                "squeue", "-h", "-t", "PENDING", "-o", "%i|%P", "--sort=-p,i"
            )
        except SlurmError as e:
            self.log.warning("Reading Slurm's queue failed: %s", e)
            return None
        if job is None or not job.waiting:
            return None
        pending = [line.split("|", 1) for line in out.split() if "|" in line] if code == 0 else []
        partition = next((p for i, p in pending if i == self.job_id), self.req_partition)
        ahead = [i for i, p in pending if p == partition]
        position = ahead.index(self.job_id) + 1 if self.job_id in ahead else None
        return queue_message(job.reason or "None", position, partition)
