"""A Spark cluster as one Slurm allocation, the way HPC centres run Spark: one batch job
whose script (spark/allocation.py) starts the standalone master and the workers inside
the allocation, as the owner's account (root submits with --uid/--gid). The cluster's
cores and memory are the allocation's, and ending the allocation (scancel) ends the
cluster.

What a cluster asks of Slurm: `--nodes=1`; one task per worker (`--ntasks=workers`,
`--cpus-per-task=worker_cores`), so the allocation's CPUs are exactly the cluster's
cores, which the ledger and the core-time budget count; `--mem` what a local cluster's
cgroup allows: the executors' memory plus room for each JVM (cluster_memory). The
master is a small daemon that shares the workers' CPUs.

`--time` is `time_limit_seconds` (a day by default), not the idle timeout: the idle
timeout ends an *unused* cluster and every statement pushes it back, so it bounds
nothing about a busy one. labdeck's own idle check and the daily core-time budget stop
clusters long before; Slurm's limit is the second line of defence (also while the
service is down) and lets its backfill scheduler plan around the cluster.

Secrets and ports as a local cluster's (standalone.py): the settings file with the UI
key and the launcher's settings with the `spark.authenticate` secret are the account's,
0600, in the cluster's folder; the JVMs bind 127.0.0.1 on ports of their own choosing;
the service learns the master's ports from its log and keeps them once the kernel says
they are the listening sockets of the master, a process of the owner's account in this
Slurm job, found in /proc. The Slurm job id, the master's process record and its ports
are the saved state: a restarted service takes the cluster back.

One node: here the allocation's node is the service's machine, so everything is
127.0.0.1 and the service sees the master's process. A site whose compute nodes are
other machines needs: the cluster's folder and the Python environment on a filesystem
shared with the nodes (as training jobs need the homes); the JVMs bound to the node's
address (SPARK_LOCAL_IP, the master URL and UI from the allocation's node, scontrol's
BatchHost) on a network only the cluster's users reach; Livy's drivers, which run on the
service's machine, bound to an address the executors on the nodes can reach
(spark.driver.host) with their ports open to the nodes; and a check of who listens on
the master's UI port other than this machine's /proc (the UI over TLS with a certificate
of the cluster's own, say) before labdeck sends it a request signed with the UI key.
"""

import asyncio
import dataclasses
import http.client
import json
import os
import secrets
import shlex
import sys
import time
from pathlib import Path

from traitlets import Int

from ..quota.usage import human_duration
from ..service.resources import Progress, StartFailed
from ..slurm import Slurm, SlurmError, SlurmSettings, SlurmUnavailable, resource_options
from ..supervisor import (
    ProcessRecord,
    Supervised,
    child_environment,
    end_pids,
    read_start_time,
    tail_lines,
)
from .allocation import ENDED, SETTINGS_NAME
from .backend import SparkBackend
from .spec import ClusterSpec, spark_memory
from .standalone import (
    LOG_TAIL_BYTES,
    MASTER_CLASS,
    MASTER_START_TIMEOUT,
    WORKERS_START_TIMEOUT,
    StandaloneMaster,
    account_file,
    cluster_memory,
    last_error,
    master_ports,
    write_settings,
)

READY_POLL_SECONDS = 0.25
# the batch script's own output (Slurm's --output), logs/allocation.log beside the JVMs'
ALLOCATION_LOG = "allocation"
# how a cluster Slurm ended reads for people, when Slurm's word says why
SLURM_ENDINGS = {
    "CANCELLED": "Cancelled in Slurm (scancel), not through labdeck.",
    "NODE_FAIL": "The Slurm node running the cluster failed.",
    "BOOT_FAIL": "The Slurm node for the cluster failed to boot.",
    "PREEMPTED": "Slurm preempted the cluster for another job.",
    "DEADLINE": "Slurm ended the cluster at its deadline.",
}
# processes left after Slurm says the allocation ended get this long to go
LEFTOVER_GRACE_SECONDS = 5


def cluster_processes(cluster_id: str, uid: int, job_id: str | None = None) -> list[int]:
    """Processes of the cluster on this machine: running as uid, with the cluster's id
    (and, given one, the Slurm job's id) in their environment, which Slurm and the
    launcher hand down to every JVM and executor."""
    wanted = [f"LABDECK_CLUSTER={cluster_id}".encode()]
    if job_id is not None:
        wanted.append(f"SLURM_JOB_ID={job_id}".encode())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        if all(item in environ for item in wanted):
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> list[bytes]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


class SlurmSparkBackend(StandaloneMaster, SparkBackend):
    """One cluster: one Slurm batch job running its master and workers."""

    time_limit_seconds = Int(
        24 * 3600,
        help="""Slurm's time limit for a cluster's allocation (sbatch --time, whole
        minutes): the longest a cluster runs. Idle clusters end sooner (their idle
        timeout) and so do clusters whose owner's core time is spent; this is the
        second line of defence, also while labdeck is down. 0: the partition's default
        time limit.""",
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = ClusterSpec(**self.spec)
        self.settings = SlurmSettings(parent=self)
        self.slurm = Slurm(self.settings, self.log)
        self.job_id: str | None = None
        self.master: Supervised | None = None
        self.master_port: int | None = None
        self.webui_port: int | None = None
        self.secret: str | None = None
        # the account the cluster runs as (saved: a restarted service has no account
        # object for a cluster it re-adopts)
        self.uid: int | None = None
        self.ended: str | None = None  # why, once Slurm says the allocation is over
        self._polled = 0.0

    @property
    def job_name(self) -> str:
        """Its name in Slurm, unique: how a submission whose id was not saved is found."""
        return f"labdeck-{self.resource_id}"

    # -- state ------------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "slurm_job_id": self.job_id,
            "master": self.master.record.to_json() if self.master else None,
            "master_port": self.master_port,
            "webui_port": self.webui_port,
            "secret": self.secret,
            "uid": self.uid,
        }

    def load_state(self, state: dict) -> None:
        self.job_id = state.get("slurm_job_id")
        self.master_port = state.get("master_port")
        self.webui_port = state.get("webui_port")
        self.secret = state.get("secret")
        self.uid = state.get("uid")
        if state.get("master"):
            self.master = self._adopt(ProcessRecord.from_json(state["master"]))

    def _adopt(self, record: ProcessRecord) -> Supervised:
        return self.supervisor.adopt(record, self.work_dir / "logs" / "master.log")

    def _master(self) -> Supervised | None:
        return self.master

    # -- submitting -------------------------------------------------------------------------
    def options(self) -> list[str]:
        spec = self.spec
        logs = self.work_dir / "logs"
        return [
            f"--job-name={self.job_name}",
            f"--chdir={self.work_dir}",
            f"--output={logs / f'{ALLOCATION_LOG}.log'}",
            "--open-mode=append",
            # a cluster that lost its node ends, rather than starts again with nothing
            # of its sessions
            "--no-requeue",
            "--nodes=1",
            f"--ntasks={spec.workers}",
            *resource_options(
                cpus=spec.worker_cores,
                memory_bytes=cluster_memory(spec),
                time_seconds=self.time_limit_seconds or None,
            ),
        ]

    def script(self) -> str:
        settings = self.work_dir / SETTINGS_NAME
        launcher = shlex.join([sys.executable, "-m", "labdeck.spark.allocation", str(settings)])
        return f"#!/bin/sh\n# labdeck Spark cluster {self.resource_id}\nexec {launcher}\n"

    def prepare(self) -> None:
        """The cluster's folder (the service's; the account may only pass through it)
        with the account's own files: settings, logs, the workers' folder."""
        self.work_dir.parent.mkdir(parents=True, exist_ok=True)
        self.work_dir.parent.chmod(0o711)
        self.make_passable_dir(self.work_dir)
        logs = self.make_passable_dir(self.work_dir / "logs")
        self.make_private_dir(self.work_dir / "work")
        for name in (*self._jvm_names(), ALLOCATION_LOG):
            account_file(logs / f"{name}.log", self.account)
        self.secret = secrets.token_urlsafe(32)
        write_settings(self.work_dir, self.account, self.ui_path, self.secret)
        launcher = {
            "cluster": self.resource_id,
            "work_dir": str(self.work_dir),
            "spec": dataclasses.asdict(self.spec),
            "secret": self.secret,
        }
        account_file(self.work_dir / SETTINGS_NAME, self.account, json.dumps(launcher))

    async def start(self, progress: Progress) -> None:
        """Submit the allocation, wait while Slurm queues it (saying why), then until the
        master is up and every worker has registered."""
        total = self.spec.workers + 1
        self.uid = self.account.uid if self.account is not None else os.geteuid()
        try:
            if self.job_id is None:
                self.prepare()
                progress("Submitting to Slurm", 0, total)
                self.job_id = await self.slurm.submit(
                    self.script(),
                    self.options(),
                    account=self.account,
                    env={**child_environment(self.account), "LABDECK_CLUSTER": self.resource_id},
                )
                self.log.info("Cluster %s is Slurm job %s", self.resource_id, self.job_id)
            progress("Submitted to Slurm", 0, total)  # saves its Slurm job id
            await self._wait_allocated(progress, total)
        except SlurmUnavailable as e:
            raise StartFailed(f"{e} Try again later, or tell an admin.") from e
        except SlurmError as e:
            raise StartFailed(f"Slurm did not take the cluster. {e}") from e
        progress("Starting the Spark master", 0, total, reason=None)
        await self._wait(lambda s: s.get("status") == "ALIVE", MASTER_START_TIMEOUT)
        progress(f"Starting {self.spec.workers} worker(s)", 1, total)  # saves the master

        def workers_alive(status: dict) -> bool:
            alive = sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")
            progress("Waiting for workers to register", 1 + alive, total)
            return alive >= self.spec.workers

        await self._wait(workers_alive, WORKERS_START_TIMEOUT)

    async def _wait_allocated(self, progress: Progress, total: int) -> None:
        """Until Slurm runs the allocation, saying why it waits (StartFailed if it ends)."""
        queued = await self.slurm.wait_started(
            self.job_id,
            lambda reason: progress("Waiting in Slurm's queue", 0, total, reason=reason),
        )
        if queued is None or queued.ended:
            raise StartFailed(await self._ending())

    async def _wait(self, ready, timeout: float) -> None:
        """Until ready(the master's status) (StartFailed if the allocation or the master
        ends first, or after timeout seconds)."""
        give_up = time.monotonic() + timeout
        while True:
            ended = await self._slurm_ended()
            if ended is not None:
                raise StartFailed(ended)
            if self.master is None:
                await asyncio.to_thread(self._find_master)
            elif not self.master.running():
                raise StartFailed(self._failure())
            if self.master is not None:
                try:
                    if ready(await asyncio.to_thread(self._master_status, 2)):
                        return
                except (OSError, ValueError, http.client.HTTPException):
                    pass  # not answering yet, or an answer cut short while it starts
            if time.monotonic() > give_up:
                raise StartFailed(f"Spark did not start within {timeout:.0f} s. {self._failure()}")
            await asyncio.sleep(READY_POLL_SECONDS)

    def _find_master(self) -> None:
        """The master's process, once its log has said which ports it bound and the
        kernel agrees that a JVM of the account in this job listens on both."""
        log = self._log("master")
        for pid in cluster_processes(self.resource_id, self.uid, self.job_id):
            if MASTER_CLASS.encode() not in _cmdline(pid):
                continue
            ports = master_ports(pid, log)
            if ports is not None:
                self.master = self._adopt(ProcessRecord("master", pid, read_start_time(pid)))
                self.master_port, self.webui_port = ports
                return

    def _jvm_names(self) -> list[str]:
        return ["master", *(f"worker-{index}" for index in range(self.spec.workers))]

    def _log(self, name: str, max_bytes: int = LOG_TAIL_BYTES) -> list[str]:
        return tail_lines(self.work_dir / "logs" / f"{name}.log", max_bytes)

    def _failure(self) -> str:
        """What ended the cluster, for its owner: the launcher's word (which JVM exited,
        and how) with that JVM's last error, or the last error of the JVMs' logs."""
        ended = [
            line.removeprefix(ENDED)[:200]
            for line in self._log(ALLOCATION_LOG, 4096)
            if line.startswith(ENDED)
        ]
        if ended:
            name = ended[-1].split(" ", 1)[0]
            error = last_error([(name, self._log(name))]) if name in self._jvm_names() else None
            return f"The cluster's {ended[-1]}." + (f" {error}" if error else "")
        said = last_error((name, self._log(name)) for name in self._jvm_names())
        return said or "A Spark process of this cluster exited; see the cluster's logs."

    # -- watching ---------------------------------------------------------------------------
    async def _slurm_ended(self) -> str | None:
        """Why the allocation ended, once Slurm says it has (asked at Slurm's pace)."""
        if self.ended is not None:
            return self.ended
        now = time.monotonic()
        if now - self._polled < self.settings.poll_interval_seconds:
            return None
        self._polled = now
        try:
            queued = await self.slurm.queued(self.job_id)
            if queued is not None and not queued.ended:
                return None
            self.ended = await self._ending()
        except SlurmUnavailable as e:
            # not a reason to end a cluster that may well run: ask again later
            self.log.warning("Cluster %s: %s", self.resource_id, e)
            return None
        return self.ended

    async def _ending(self) -> str:
        """Why a cluster whose allocation is over ended, for people."""
        details = await self.slurm.details(self.job_id)
        state = details.state if details is not None else None
        if state == "TIMEOUT":
            limit = human_duration(self.time_limit_seconds)
            return f"Slurm ended the cluster at its time limit ({limit})."
        if state == "OUT_OF_MEMORY":
            limit = spark_memory(cluster_memory(self.spec))
            return f"The cluster ran out of memory (its allocation has {limit}): ask for less."
        if state in SLURM_ENDINGS:
            return SLURM_ENDINGS[state]
        if state == "FAILED" and details.reason not in (None, "NonZeroExitCode"):
            return f"Slurm could not run the cluster ({details.reason})."
        return self._failure()

    async def poll(self) -> str | None:
        """Slurm's word: the launcher ends the allocation as soon as a JVM exits, and
        Slurm knows best why an allocation ended (a time limit, a scancel)."""
        if self.job_id is None:
            return "The cluster was never submitted to Slurm."
        return await self._slurm_ended()

    # -- stopping ---------------------------------------------------------------------------
    async def stop(self) -> None:
        """scancel, wait until Slurm says the allocation is over, then until none of the
        cluster's processes is left here."""
        await self.slurm.end(self.job_id, self.job_name, f"Cluster {self.resource_id}")
        if self.uid is None:
            return
        # Slurm kills what it tracks of the job; anything of the cluster that escaped it
        # (or runs while Slurm does not answer) is stopped here
        left = await asyncio.to_thread(cluster_processes, self.resource_id, self.uid)
        if left:
            self.log.warning(
                "Cluster %s: %d process(es) left after its allocation ended: stopped",
                self.resource_id,
                len(left),
            )
            await end_pids(left, LEFTOVER_GRACE_SECONDS)
