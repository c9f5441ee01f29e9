"""A Spark standalone cluster made of local JVMs from the pip `pyspark` distribution.

The pip package ships `bin/spark-class` but not the start-master/worker scripts, so the
master and workers are started with spark-class directly: the master first (workers
then register at once instead of retrying), everything bound to 127.0.0.1, the
unauthenticated REST submission port off, the UIs behind labdeck's authenticated proxy.
"""

import asyncio
import json
import os
import signal
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..net import free_port
from .spec import ClusterSpec, spark_memory

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@dataclass
class RunningCluster:
    """Where a cluster's processes are; enough to find them again after a restart."""

    master_port: int
    webui_port: int
    pids: list[int]

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def webui_url(self) -> str:
        return f"http://127.0.0.1:{self.webui_port}"


class StartError(Exception):
    pass


def process_alive(pid: int, marker: str) -> bool:
    """pid runs and is still the process we started (its command line has marker).

    An empty command line is a process between fork and exec (spark-class execs java):
    alive. A pid reused by some other program has another command line: not ours.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and (not cmdline or marker.encode() in cmdline)


def master_status(webui_url: str, timeout: float = 5) -> dict:
    """The master's JSON view: workers, cores, memory, applications."""
    with urllib.request.urlopen(webui_url + "/json/", timeout=timeout) as response:  # noqa: S310
        return json.load(response)


class LocalSparkBackend:
    """Starts, finds and stops local standalone clusters; one directory per cluster."""

    def __init__(self, work_root: Path, ui_prefix: str, log):
        self.work_root = work_root
        self.ui_prefix = ui_prefix.rstrip("/")
        self.log = log
        self._reapers: set[asyncio.Task] = set()

    def cluster_dir(self, cluster_id: str) -> Path:
        return self.work_root / cluster_id

    def ui_proxy_path(self, cluster_id: str) -> str:
        return f"{self.ui_prefix}/{cluster_id}/ui"

    def _write_properties(self, cluster_id: str) -> Path:
        properties = {
            "spark.master.rest.enabled": "false",
            "spark.ui.reverseProxy": "true",
            "spark.ui.reverseProxyUrl": self.ui_proxy_path(cluster_id),
            "spark.ui.killEnabled": "false",
            "spark.worker.cleanup.enabled": "true",
        }
        path = self.cluster_dir(cluster_id) / "spark-defaults.conf"
        path.write_text("".join(f"{k} {v}\n" for k, v in properties.items()))
        return path

    def _env(self, cluster_id: str) -> dict:
        directory = self.cluster_dir(cluster_id)
        return dict(
            os.environ,
            SPARK_HOME=str(spark_home()),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(directory / "logs"),
            SPARK_WORKER_DIR=str(directory / "work"),
            SPARK_NO_DAEMONIZE="1",
            LABDECK_CLUSTER=cluster_id,
        )

    async def _spawn(self, cluster_id: str, name: str, args: list[str]) -> int:
        directory = self.cluster_dir(cluster_id)
        log = open(directory / "logs" / f"{name}.log", "ab")
        try:
            process = await asyncio.create_subprocess_exec(
                str(spark_home() / "bin" / "spark-class"),
                *args,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env=self._env(cluster_id),
                cwd=directory,
                # its own session: survives a restart of the service, which re-adopts it
                start_new_session=True,
            )
        finally:
            log.close()
        reaper = asyncio.create_task(process.wait())  # no zombie when it exits
        self._reapers.add(reaper)
        reaper.add_done_callback(self._reapers.discard)
        return process.pid

    def prepare(self) -> RunningCluster:
        """Ports for a new cluster (its pids are added as processes start)."""
        return RunningCluster(free_port(), free_port(), [])

    async def start(
        self, cluster_id: str, spec: ClusterSpec, running: RunningCluster, progress
    ) -> None:
        """Start master then workers into `running`; progress(step, done, total) reports
        each step (and is the moment to save `running.pids`)."""
        directory = self.cluster_dir(cluster_id)
        (directory / "logs").mkdir(parents=True, exist_ok=True)
        (directory / "work").mkdir(exist_ok=True)
        properties = str(self._write_properties(cluster_id))
        total = spec.workers + 1
        progress("Starting the Spark master", 0, total)
        running.pids.append(
            await self._spawn(
                cluster_id,
                "master",
                [
                    MASTER_CLASS,
                    *("--host", "127.0.0.1", "--port", str(running.master_port)),
                    *("--webui-port", str(running.webui_port)),
                    *("--properties-file", properties),
                ],
            )
        )
        await self._wait(lambda s: s.get("status") == "ALIVE", running, cluster_id, 60)
        progress(f"Starting {spec.workers} worker(s)", 1, total)
        for index in range(spec.workers):
            running.pids.append(
                await self._spawn(
                    cluster_id,
                    f"worker-{index}",
                    [
                        WORKER_CLASS,
                        *("--host", "127.0.0.1", "--webui-port", str(free_port())),
                        *("--cores", str(spec.worker_cores)),
                        *("--memory", spark_memory(spec.worker_memory)),
                        *("--work-dir", str(directory / "work")),
                        *("--properties-file", properties),
                        running.master_url,
                    ],
                )
            )

        def workers_alive(status: dict) -> bool:
            alive = sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")
            progress("Waiting for workers to register", 1 + alive, total)
            return alive >= spec.workers

        await self._wait(workers_alive, running, cluster_id, 90)

    async def _wait(self, ready, running: RunningCluster, cluster_id: str, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [pid for pid in running.pids if not process_alive(pid, cluster_id)]
            if dead:
                raise StartError(self._failure(cluster_id))
            try:
                status = await asyncio.to_thread(master_status, running.webui_url, 2)
                if ready(status):
                    return
            except OSError:
                pass  # not listening yet
            await asyncio.sleep(0.2)
        raise StartError(f"Spark did not start within {timeout:.0f} s. {self._failure(cluster_id)}")

    def _failure(self, cluster_id: str) -> str:
        """The last error line of the cluster's logs, for the user to read."""
        for log in sorted((self.cluster_dir(cluster_id) / "logs").glob("*.log")):
            lines = [ln for ln in log.read_text(errors="replace").splitlines() if "ERROR" in ln]
            if lines:
                return f"{log.stem}: {lines[-1][-300:]}"
        return "A Spark process exited; see the cluster's logs."

    def alive(self, cluster_id: str, running: RunningCluster) -> bool:
        return all(process_alive(pid, cluster_id) for pid in running.pids)

    async def status(self, running: RunningCluster) -> dict | None:
        try:
            return await asyncio.to_thread(master_status, running.webui_url)
        except (OSError, ValueError):
            return None

    async def terminate(self, cluster_id: str, pids: list[int], grace: float = 10) -> None:
        """Stop workers, then the master; whatever does not stop in time is killed."""
        ours = [pid for pid in pids if process_alive(pid, cluster_id)]
        for pid in reversed(ours):  # workers first
            _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(process_alive(p, cluster_id) for p in ours):
            await asyncio.sleep(0.1)
        for pid in ours:
            if process_alive(pid, cluster_id):
                _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, sig: int) -> None:
    # spark-class execs java in the same process group: signal the whole group
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
