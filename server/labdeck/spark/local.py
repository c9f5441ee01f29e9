"""A Spark standalone cluster made of local JVMs from the pip `pyspark` distribution
(what it is made of, and why so: standalone.py), started through the supervisor in a
cgroup of the cluster's.

No port is chosen ahead of time for another account to take first: labdeck learns the
master's from its log, keeps them once the kernel says they are the master's listening
sockets, and checks that again before each request (the port of a master that died is
anyone's).

Files: the cluster's folder and its logs folder are the service's, which the owner's
account may only pass through, so the account cannot swap a file the service opens for
a link. The settings file (it holds the UI key) and the logs are the account's, mode
0600; the workers' folder, where executors write, is the account's alone; the JVMs run
with umask 077.
"""

import asyncio
import http.client
import secrets

from ..cgroups import Cgroup, Limits
from ..service.resources import Progress, StartFailed
from ..supervisor import NotReady, ProcessRecord, Supervised
from .backend import SparkBackend
from .spec import ClusterSpec, spark_memory
from .standalone import (
    LOG_TAIL_BYTES,
    MASTER_START_TIMEOUT,
    WORKERS_START_TIMEOUT,
    StandaloneMaster,
    account_file,
    cluster_memory,
    last_error,
    master_args,
    master_ports,
    spark_class,
    spark_environment,
    worker_args,
    write_settings,
)
from .standalone import spark_home as spark_home  # where other modules look for it

# Threads count against a cgroup's process limit, and a JVM has a hundred or more.
CLUSTER_PIDS = 8192


class LocalSparkBackend(StandaloneMaster, SparkBackend):
    """A master and workers as local processes, one work directory per cluster."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = ClusterSpec(**self.spec)
        self.master_port: int | None = None
        self.webui_port: int | None = None
        self.processes: list[Supervised] = []
        self.cgroup: Cgroup | None = None
        # Spark's RPC secret: only the cluster's own JVMs and labdeck's drivers have it
        self.secret: str | None = None

    # -- state ------------------------------------------------------------------------------
    def get_state(self) -> dict:
        records = [p.record for p in self.processes]
        return {
            "master_port": self.master_port,
            "webui_port": self.webui_port,
            "processes": [r.to_json() for r in records],
            "cgroup": self.cgroup.name if self.cgroup else None,
            "secret": self.secret,
        }

    def load_state(self, state: dict) -> None:
        self.master_port = state.get("master_port")
        self.webui_port = state.get("webui_port")
        self.secret = state.get("secret")
        if state.get("cgroup"):
            self.cgroup = self.supervisor.find_limit(state["cgroup"])
        self.processes = [
            self.supervisor.adopt(
                record, self.work_dir / "logs" / f"{record.name}.log", self.cgroup
            )
            for record in map(ProcessRecord.from_json, state.get("processes", []))
        ]

    def limits(self) -> Limits:
        """The whole cluster's: its executors' cores and memory, and room for its JVMs."""
        spec = self.spec
        return Limits(
            cpu_cores=spec.cores + 1,
            memory_bytes=cluster_memory(spec),
            pids=CLUSTER_PIDS,
        )

    def _master(self) -> Supervised | None:
        return next((p for p in self.processes if p.record.name == "master"), None)

    # -- start ------------------------------------------------------------------------------
    async def _spawn(self, name: str, args: list[str]) -> None:
        log_path = self.work_dir / "logs" / f"{name}.log"
        account_file(log_path, self.account)
        process = await self.supervisor.start(
            name,
            spark_class(args),
            log_path=log_path,
            env=spark_environment(self.work_dir, self.resource_id, self.secret),
            cwd=self.work_dir,
            account=self.account,
            cgroup=self.cgroup,
        )
        self.processes.append(process)

    async def start(self, progress: Progress) -> None:
        """Start the master, then the workers; wait until every worker has registered."""
        spec = self.spec
        # users pass through the folder of all clusters to their own, and see no other
        self.work_dir.parent.mkdir(parents=True, exist_ok=True)
        self.work_dir.parent.chmod(0o711)
        self.make_passable_dir(self.work_dir)
        self.make_passable_dir(self.work_dir / "logs")
        self.make_private_dir(self.work_dir / "work")
        self.cgroup = self.supervisor.limit(f"cluster-{self.resource_id}", self.limits())
        self.secret = secrets.token_urlsafe(32)
        settings = write_settings(self.work_dir, self.account, self.ui_path, self.secret)
        total = spec.workers + 1
        progress("Starting the Spark master", 0, total)
        await self._spawn("master", master_args(settings))
        progress("Starting the Spark master", 0, total)  # saves its process record
        await self._wait(lambda s: s.get("status") == "ALIVE", MASTER_START_TIMEOUT)
        progress(f"Starting {spec.workers} worker(s)", 1, total)  # saves its ports
        for index in range(spec.workers):
            await self._spawn(
                f"worker-{index}", worker_args(spec, self.work_dir, settings, self.master_url)
            )
            progress(f"Starting {spec.workers} worker(s)", 1, total)

        def workers_alive(status: dict) -> bool:
            alive = sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")
            progress("Waiting for workers to register", 1 + alive, total)
            return alive >= spec.workers

        await self._wait(workers_alive, WORKERS_START_TIMEOUT)

    def _learn_ports(self) -> bool:
        """Whether the master's RPC and UI ports are known: once its log has said which
        they are and the kernel agrees that the master listens on both."""
        master = self._master()
        ports = master_ports(master.pid, master.tail(LOG_TAIL_BYTES))
        if ports is None:
            return False
        self.master_port, self.webui_port = ports
        return True

    async def _wait(self, ready, timeout: float) -> None:
        async def check() -> bool:
            if any(not p.running() for p in self.processes):
                raise StartFailed(self._failure())
            if self.webui_port is None and not await asyncio.to_thread(self._learn_ports):
                return False
            try:
                return ready(await asyncio.to_thread(self._master_status, 2))
            except (OSError, ValueError, http.client.HTTPException):
                # not listening yet, or an answer cut short or not JSON yet while the
                # master starts: ask again
                return False

        try:
            await self.processes[0].wait_ready(check, timeout)
        except NotReady as e:
            raise StartFailed(f"Spark did not start: {e} {self._failure()}") from e

    def _failure(self) -> str:
        """The last error line of the cluster's logs, for the user to read."""
        logs = sorted((p.record.name, p.tail(LOG_TAIL_BYTES)) for p in self.processes)
        return last_error(logs) or "A Spark process exited; see the cluster's logs."

    # -- running and stopping ---------------------------------------------------------------
    async def poll(self) -> str | None:
        if all(p.running() for p in self.processes):
            return None
        if self.cgroup is not None and self.cgroup.oom_killed():
            limit = spark_memory(self.limits().memory_bytes)
            return f"The cluster ran out of memory (its limit is {limit}): ask for less."
        return "A Spark process of this cluster exited."

    async def stop(self) -> None:
        """Stop workers, then the master; whatever does not stop in time is killed, and
        so is anything left in the cluster's cgroup."""
        await self.supervisor.terminate(reversed(self.processes))
        await self.supervisor.release(self.cgroup)
