"""A Spark standalone cluster made of local JVMs from the pip `pyspark` distribution.

The pip package ships `bin/spark-class` but not the start-master/worker scripts, so the
master and workers are started with spark-class directly: the master first (workers
then register at once instead of retrying), everything bound to 127.0.0.1, the
unauthenticated REST submission port off, the UIs behind labdeck's authenticated proxy
and refusing everyone else (see ui_auth).

No port is chosen ahead of time for another account to take first: the master and the
workers bind ports of their own choosing (port 0). labdeck learns the master's from its
log, keeps them once the kernel says they are the master's listening sockets, and
checks that again before each request (the port of a master that died is anyone's).

Files: the cluster's folder and its logs folder are the service's, which the owner's
account may only pass through, so the account cannot swap a file the service opens for
a link. The settings file (it holds the UI key) and the logs are the account's, mode
0600; the workers' folder, where executors write, is the account's alone; the JVMs run
with umask 077.
"""

import asyncio
import http.client
import json
import os
import re
import secrets
import urllib.request
from pathlib import Path

from ..cgroups import Cgroup, Limits
from ..net import ForeignListener, listening_ports, require_listener
from ..service.resources import Progress, StartFailed
from ..supervisor import NotReady, ProcessRecord, Supervised
from .backend import SparkBackend
from .spec import ClusterSpec, spark_memory
from .ui_auth import ui_conf, ui_headers

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
# How the master says which ports it bound (Spark's `Utils.startServiceOnPort`).
MASTER_PORT_LINE = re.compile(r"started service '(sparkMaster|MasterUI)' on port (\d+)")
LOG_TAIL_BYTES = 256 * 1024
# spark-class with every file it makes private to the account (executors' output too).
PRIVATE_FILES = 'umask 077 && exec "$@"'


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def master_status(webui_url: str, headers: dict[str, str], timeout: float = 5) -> dict:
    """The master's JSON view: workers, cores, memory, applications (headers: the
    cluster's `ui_headers`, without which its UI refuses)."""
    request = urllib.request.Request(webui_url + "/json/", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
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

    # -- the master's UI, asked of the master only ------------------------------------------
    def _master(self) -> Supervised | None:
        return next((p for p in self.processes if p.record.name == "master"), None)

    def _check_webui(self) -> None:
        """ForeignListener unless the master itself listens on the UI port."""
        master = self._master()
        if master is None or self.webui_port is None:
            raise ForeignListener("this cluster has no master UI")
        require_listener(master.pid, self.webui_port)

    async def ui_access(self) -> tuple[str, dict[str, str]]:
        await asyncio.to_thread(self._check_webui)
        return self.webui_url, ui_headers(self.secret)

    def _master_status(self, timeout: float = 5) -> dict:
        """master_status, once the UI port is known to be the master's (blocking)."""
        self._check_webui()
        return master_status(self.webui_url, ui_headers(self.secret), timeout)

    # -- start ------------------------------------------------------------------------------
    def _account_file(self, path: Path, text: str = "") -> None:
        """A file of the owner's account, mode 0600, with text added (made by the
        service, which must follow no link someone left there)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)
            if self.account is not None:
                os.fchown(fd, self.account.uid, self.account.gid)
            os.write(fd, text.encode())
        finally:
            os.close(fd)

    def _write_properties(self) -> Path:
        properties = {
            "spark.master.rest.enabled": "false",
            # every connection to the master, a worker or an executor must know the secret
            "spark.authenticate": "true",
            "spark.ui.reverseProxy": "true",
            "spark.ui.reverseProxyUrl": self.ui_path,
            "spark.ui.killEnabled": "false",
            "spark.worker.cleanup.enabled": "true",
            # the UIs answer only requests signed with the cluster's UI key
            **ui_conf(self.secret),
        }
        path = self.work_dir / "spark-defaults.conf"
        self._account_file(path, "".join(f"{k} {v}\n" for k, v in properties.items()))
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
        log_path = self.work_dir / "logs" / f"{name}.log"
        self._account_file(log_path)
        spark_class = str(spark_home() / "bin" / "spark-class")
        process = await self.supervisor.start(
            name,
            ["/bin/sh", "-c", PRIVATE_FILES, "spark-class", spark_class, *args],
            log_path=log_path,
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
        self.make_passable_dir(self.work_dir)
        self.make_passable_dir(self.work_dir / "logs")
        self.make_private_dir(self.work_dir / "work")
        self.cgroup = self.supervisor.limit(f"cluster-{self.resource_id}", self.limits())
        self.secret = secrets.token_urlsafe(32)
        properties = str(self._write_properties())
        total = spec.workers + 1
        progress("Starting the Spark master", 0, total)
        await self._spawn(
            "master",
            [
                MASTER_CLASS,
                # ports of its own choosing, learnt from the master itself
                *("--host", "127.0.0.1", "--port", "0", "--webui-port", "0"),
                *("--properties-file", properties),
            ],
        )
        progress("Starting the Spark master", 0, total)  # saves its process record
        await self._wait(lambda s: s.get("status") == "ALIVE", MASTER_START_TIMEOUT)
        progress(f"Starting {spec.workers} worker(s)", 1, total)  # saves its ports
        for index in range(spec.workers):
            await self._spawn(
                f"worker-{index}",
                [
                    WORKER_CLASS,
                    *("--host", "127.0.0.1", "--webui-port", "0"),
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

    def _learn_ports(self) -> bool:
        """Whether the master's RPC and UI ports are known: once its log has said which
        they are and the kernel agrees that the master listens on both."""
        master = self._master()
        said: dict[str, int] = {}
        for line in master.tail(LOG_TAIL_BYTES):
            found = MASTER_PORT_LINE.search(line)
            if found:
                said[found[1]] = int(found[2])
        if len(said) < 2:
            return False
        own = {port for ip, port in listening_ports(master.pid) if ip == "127.0.0.1"}
        if not set(said.values()) <= own:
            return False
        self.master_port, self.webui_port = said["sparkMaster"], said["MasterUI"]
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
        for process in sorted(self.processes, key=lambda p: p.record.name):
            lines = [ln for ln in process.tail(LOG_TAIL_BYTES) if "ERROR" in ln]
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
            return await asyncio.to_thread(self._master_status)
        except (OSError, ValueError):
            return {}

    async def stop(self) -> None:
        """Stop workers, then the master; whatever does not stop in time is killed, and
        so is anything left in the cluster's cgroup."""
        await self.supervisor.terminate(reversed(self.processes))
        await self.supervisor.release(self.cgroup)
