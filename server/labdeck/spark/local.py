"""A Spark standalone cluster made of local JVMs from the pip `pyspark` distribution.

The pip package ships `bin/spark-class` but not the start-master/worker scripts, so the
master and workers are started with spark-class directly: the master first (workers
then register at once instead of retrying), everything bound to 127.0.0.1, the
unauthenticated REST submission port off, the UIs behind labdeck's authenticated proxy.
"""

import asyncio
import json
import secrets
import urllib.request
from pathlib import Path

from ..cgroups import Cgroup, Limits
from ..net import free_port
from ..service.resources import Progress, StartFailed
from ..supervisor import NotReady, ProcessRecord, Supervised
from .backend import SparkBackend
from .spec import ClusterSpec, spark_memory

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# The master's and workers' own JVMs (their executors get the spec's memory).
DAEMON_MEMORY = "512m"
# Beyond a JVM's heap: metaspace, threads, buffers, and an executor's Python workers.
JVM_OVERHEAD = 1 * 2**30
# Threads count against a cgroup's process limit, and a JVM has a hundred or more.
CLUSTER_PIDS = 8192
MASTER_START_TIMEOUT = 60
WORKERS_START_TIMEOUT = 90


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def master_status(webui_url: str, timeout: float = 5) -> dict:
    """The master's JSON view: workers, cores, memory, applications."""
    with urllib.request.urlopen(webui_url + "/json/", timeout=timeout) as response:  # noqa: S310
        return json.load(response)


class LocalSparkBackend(SparkBackend):
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
            memory_bytes=spec.memory + (spec.workers + 1) * JVM_OVERHEAD,
            pids=CLUSTER_PIDS,
        )

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def webui_url(self) -> str:
        return f"http://127.0.0.1:{self.webui_port}"

    # -- start ------------------------------------------------------------------------------
    def _write_properties(self) -> Path:
        properties = {
            "spark.master.rest.enabled": "false",
            # every connection to the master, a worker or an executor must know the secret
            "spark.authenticate": "true",
            "spark.ui.reverseProxy": "true",
            "spark.ui.reverseProxyUrl": self.ui_path,
            "spark.ui.killEnabled": "false",
            "spark.worker.cleanup.enabled": "true",
        }
        path = self.work_dir / "spark-defaults.conf"
        path.write_text("".join(f"{k} {v}\n" for k, v in properties.items()))
        return path

    def _env(self) -> dict:
        return dict(
            SPARK_HOME=str(spark_home()),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(self.work_dir / "logs"),
            SPARK_WORKER_DIR=str(self.work_dir / "work"),
            SPARK_NO_DAEMONIZE="1",
            SPARK_DAEMON_MEMORY=DAEMON_MEMORY,
            LABDECK_CLUSTER=self.resource_id,
            # in the environment, which only its own account can read; never a command line
            _SPARK_AUTH_SECRET=self.secret,
        )

    async def _spawn(self, name: str, args: list[str]) -> None:
        process = await self.supervisor.start(
            name,
            [str(spark_home() / "bin" / "spark-class"), *args],
            log_path=self.work_dir / "logs" / f"{name}.log",
            env=self._env(),
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
        for directory in (self.work_dir, self.work_dir / "logs", self.work_dir / "work"):
            self.make_private_dir(directory)
        self.cgroup = self.supervisor.limit(f"cluster-{self.resource_id}", self.limits())
        self.secret = secrets.token_urlsafe(32)
        self.master_port, self.webui_port = free_port(), free_port()
        properties = str(self._write_properties())
        total = spec.workers + 1
        progress("Starting the Spark master", 0, total)
        await self._spawn(
            "master",
            [
                MASTER_CLASS,
                *("--host", "127.0.0.1", "--port", str(self.master_port)),
                *("--webui-port", str(self.webui_port)),
                *("--properties-file", properties),
            ],
        )
        progress("Starting the Spark master", 0, total)  # saves its process record
        await self._wait(lambda s: s.get("status") == "ALIVE", MASTER_START_TIMEOUT)
        progress(f"Starting {spec.workers} worker(s)", 1, total)
        for index in range(spec.workers):
            await self._spawn(
                f"worker-{index}",
                [
                    WORKER_CLASS,
                    *("--host", "127.0.0.1", "--webui-port", str(free_port())),
                    *("--cores", str(spec.worker_cores)),
                    *("--memory", spark_memory(spec.worker_memory)),
                    *("--work-dir", str(self.work_dir / "work")),
                    *("--properties-file", properties),
                    self.master_url,
                ],
            )
            progress(f"Starting {spec.workers} worker(s)", 1, total)

        def workers_alive(status: dict) -> bool:
            alive = sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")
            progress("Waiting for workers to register", 1 + alive, total)
            return alive >= spec.workers

        await self._wait(workers_alive, WORKERS_START_TIMEOUT)

    async def _wait(self, ready, timeout: float) -> None:
        async def check() -> bool:
            if any(not p.running() for p in self.processes):
                raise StartFailed(self._failure())
            try:
                return ready(await asyncio.to_thread(master_status, self.webui_url, 2))
            except OSError:
                return False  # not listening yet

        try:
            await self.processes[0].wait_ready(check, timeout)
        except NotReady as e:
            raise StartFailed(f"Spark did not start: {e} {self._failure()}") from e

    def _failure(self) -> str:
        """The last error line of the cluster's logs, for the user to read."""
        for process in sorted(self.processes, key=lambda p: p.record.name):
            lines = [ln for ln in process.tail() if "ERROR" in ln]
            if lines:
                return f"{process.record.name}: {lines[-1][-300:]}"
        return "A Spark process exited; see the cluster's logs."

    # -- running and stopping ---------------------------------------------------------------
    async def poll(self) -> str | None:
        if all(p.running() for p in self.processes):
            return None
        if self.cgroup is not None and self.cgroup.oom_killed():
            limit = spark_memory(self.limits().memory_bytes)
            return f"The cluster ran out of memory (its limit is {limit}): ask for less."
        return "A Spark process of this cluster exited."

    async def status(self) -> dict:
        if self.webui_port is None:
            return {}
        try:
            return await asyncio.to_thread(master_status, self.webui_url)
        except (OSError, ValueError):
            return {}

    async def stop(self) -> None:
        """Stop workers, then the master; whatever does not stop in time is killed, and
        so is anything left in the cluster's cgroup."""
        await self.supervisor.terminate(reversed(self.processes))
        await self.supervisor.release(self.cgroup)
