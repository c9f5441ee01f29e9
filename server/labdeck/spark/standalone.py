"""What a Spark standalone cluster is made of, wherever its JVMs run (local processes,
a Slurm allocation): the master's and workers' commands from the pip `pyspark`
distribution, their settings file and environment, and how the master's ports are
learnt.

The pip package ships `bin/spark-class` but not the start-master/worker scripts, so the
master and workers are started with spark-class directly: the master first (workers
then register at once instead of retrying), everything bound to 127.0.0.1, the
unauthenticated REST submission port off, the UIs refusing anyone without the
cluster's UI key (see ui_auth).

Nothing secret goes on a command line: the `spark.authenticate` secret is in the JVMs'
environment, the UI key in the settings file (the account's, 0600).

No port is chosen ahead of time for another account to take first: the master and the
workers bind ports of their own choosing (port 0). The master's are learnt from its log
and kept once the kernel says they are the master's own listening sockets.
"""

import asyncio
import json
import os
import re
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from ..net import ForeignListener, listening_ports, require_listener
from ..supervisor import Account, Supervised
from .spec import ClusterSpec, spark_memory
from .ui_auth import ui_conf, ui_headers

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# The master's and workers' own JVMs (their executors get the spec's memory).
DAEMON_MEMORY = "512m"
# Beyond a JVM's heap: metaspace, threads, buffers, and an executor's Python workers.
JVM_OVERHEAD = 1 * 2**30
MASTER_START_TIMEOUT = 60
WORKERS_START_TIMEOUT = 90
# How the master says which ports it bound (Spark's `Utils.startServiceOnPort`).
MASTER_PORT_LINE = re.compile(r"started service '(sparkMaster|MasterUI)' on port (\d+)")
LOG_TAIL_BYTES = 256 * 1024
# spark-class with every file it makes private to the account (executors' output too).
PRIVATE_FILES = 'umask 077 && exec "$@"'
SETTINGS_FILE = "spark-defaults.conf"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def master_status(webui_url: str, headers: dict[str, str], timeout: float = 5) -> dict:
    """The master's JSON view: workers, cores, memory, applications (headers: the
    cluster's `ui_headers`, without which its UI refuses)."""
    request = urllib.request.Request(webui_url + "/json/", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.load(response)


def cluster_memory(spec: ClusterSpec) -> int:
    """What the whole cluster may use: its executors' memory, and room for each JVM."""
    return spec.memory + (spec.workers + 1) * JVM_OVERHEAD


def account_file(
    path: Path, account: Account | None, text: str = "", replace: bool = False
) -> None:
    """A file of the owner's account, mode 0600, with text added (or in place of what it
    held, `replace`), made by the service, which must follow no link someone left there."""
    mode = os.O_TRUNC if replace else os.O_APPEND
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        if account is not None:
            os.fchown(fd, account.uid, account.gid)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def write_settings(work_dir: Path, account: Account | None, ui_path: str, secret: str) -> Path:
    """The master's and workers' settings file (it holds the UI key): the account's."""
    properties = {
        "spark.master.rest.enabled": "false",
        # every connection to the master, a worker or an executor must know the secret
        "spark.authenticate": "true",
        "spark.ui.reverseProxy": "true",
        "spark.ui.reverseProxyUrl": ui_path,
        "spark.ui.killEnabled": "false",
        "spark.worker.cleanup.enabled": "true",
        # the UIs answer only requests signed with the cluster's UI key
        **ui_conf(secret),
    }
    path = work_dir / SETTINGS_FILE
    account_file(path, account, "".join(f"{k} {v}\n" for k, v in properties.items()))
    return path


def spark_environment(work_dir: Path, cluster_id: str, secret: str) -> dict[str, str]:
    """The master's and workers' environment (beside what every child gets)."""
    return dict(
        SPARK_HOME=str(spark_home()),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOG_DIR=str(work_dir / "logs"),
        SPARK_WORKER_DIR=str(work_dir / "work"),
        SPARK_NO_DAEMONIZE="1",
        SPARK_DAEMON_MEMORY=DAEMON_MEMORY,
        LABDECK_CLUSTER=cluster_id,
        # in the environment, which only its own account can read; never a command line
        _SPARK_AUTH_SECRET=secret,
    )


def spark_class(args: list[str]) -> list[str]:
    """The command that runs a Spark class with umask 077."""
    program = str(spark_home() / "bin" / "spark-class")
    return ["/bin/sh", "-c", PRIVATE_FILES, "spark-class", program, *args]


def master_args(settings: Path) -> list[str]:
    return [
        MASTER_CLASS,
        # ports of its own choosing, learnt from the master itself
        *("--host", "127.0.0.1", "--port", "0", "--webui-port", "0"),
        *("--properties-file", str(settings)),
    ]


def worker_args(spec: ClusterSpec, work_dir: Path, settings: Path, master_url: str) -> list[str]:
    return [
        WORKER_CLASS,
        *("--host", "127.0.0.1", "--webui-port", "0"),
        *("--cores", str(spec.worker_cores)),
        *("--memory", spark_memory(spec.worker_memory)),
        *("--work-dir", str(work_dir / "work")),
        *("--properties-file", str(settings)),
        master_url,
    ]


def master_ports(pid: int, log_lines: Iterable[str]) -> tuple[int, int] | None:
    """(RPC port, UI port) of the master process pid, once its log has said which they
    are and the kernel agrees that pid listens on both (on 127.0.0.1); else None."""
    said: dict[str, int] = {}
    for line in log_lines:
        found = MASTER_PORT_LINE.search(line)
        if found:
            said[found[1]] = int(found[2])
    if len(said) < 2:
        return None
    own = {port for ip, port in listening_ports(pid) if ip == "127.0.0.1"}
    if not set(said.values()) <= own:
        return None
    return said["sparkMaster"], said["MasterUI"]


def last_error(logs: Iterable[tuple[str, list[str]]]) -> str | None:
    """'<name>: <line>' for the last ERROR line of the first log (name, lines) that has
    one, for the cluster's owner to read."""
    for name, lines in logs:
        errors = [line for line in lines if "ERROR" in line]
        if errors:
            return f"{name}: {errors[-1][-300:]}"
    return None


class StandaloneMaster:
    """How labdeck speaks to the master of a cluster it runs, for a SparkBackend: its
    URLs, and its UI asked of the master only. The backend keeps master_port,
    webui_port and secret, and says which process the master is (`_master`)."""

    master_port: int | None = None
    webui_port: int | None = None
    secret: str | None = None

    def _master(self) -> Supervised | None:
        raise NotImplementedError

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def webui_url(self) -> str:
        return f"http://127.0.0.1:{self.webui_port}"

    def _check_webui(self) -> None:
        """ForeignListener unless the master itself listens on the UI port."""
        master = self._master()
        # a master that exited may have left its pid to a process of someone else's
        if master is None or self.webui_port is None or not master.running():
            raise ForeignListener("this cluster has no master UI")
        require_listener(master.pid, self.webui_port)

    async def ui_access(self) -> tuple[str, dict[str, str]]:
        await asyncio.to_thread(self._check_webui)
        return self.webui_url, ui_headers(self.secret)

    def _master_status(self, timeout: float = 5) -> dict:
        """master_status, once the UI port is known to be the master's (blocking)."""
        self._check_webui()
        return master_status(self.webui_url, ui_headers(self.secret), timeout)

    async def status(self) -> dict:
        if self.webui_port is None:
            return {}
        try:
            return await asyncio.to_thread(self._master_status)
        except (OSError, ValueError):
            return {}
