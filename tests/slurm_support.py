"""A real single-node Slurm for tests: munged, slurmctld and slurmd in a temp dir.

Everything is the cluster's own: a munge key (made once, 0400), its socket, pid, seed
and log files, Slurm's state, spool, logs and pid files, on ports free at run time.
The machine's /etc/munge, /run/munge and /etc/slurm are never touched. Clients reach it
with SLURM_CONF=<its folder>/slurm.conf in their environment (`SlurmCluster.env`).

Readiness is awaited by condition (the controller answers `scontrol ping`, the node is
idle); at the end every job is cancelled, the daemons are stopped by pid and the folder
is removed, leaving no process or file behind. Slurm's packages are installed by
`scripts/setup --test`; without them the tests that need Slurm skip.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from labdeck.net import free_port
from labdeck.slurm import parse_scontrol
from labdeck_process import alive, wait_for

SBIN = "/usr/sbin:/sbin"
DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel", "sinfo")
PARTITION = "main"
START_TIMEOUT = 60
STOP_TIMEOUT = 30
# long enough that a finished job can still be read with `scontrol show job`
MIN_JOB_AGE = 3600


def which(name: str) -> str | None:
    return shutil.which(name, path=f"{os.environ.get('PATH', os.defpath)}:{SBIN}")


def missing_binaries() -> list[str]:
    """Slurm and munge programs this machine lacks (the Debian packages slurm-wlm, munge)."""
    return [name for name in (*DAEMONS, *CLIENTS) if which(name) is None]


def hardware() -> dict[str, str]:
    """What `slurmd -C` says of this machine: NodeName, CPUs, ..., RealMemory."""
    found = subprocess.run(
        [which("slurmd"), "-C"], capture_output=True, text=True, timeout=30, check=True
    )
    first = found.stdout.splitlines()[0]
    return dict(item.split("=", 1) for item in first.split() if "=" in item)


def slurm_conf(root: Path, node: dict[str, str], ctld_port: int, slurmd_port: int) -> str:
    name = node["NodeName"]
    # below the machine's memory, or slurmd would find less than configured and drain
    memory = int(int(node["RealMemory"]) * 0.8)
    layout = " ".join(
        f"{key}={node[key]}"
        for key in ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")
        if key in node
    )
    return f"""\
ClusterName=labdeck-test
SlurmctldHost={name}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root / "munge" / "munge.socket"}
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
PlugStackConfig={root / "plugstack.conf"}
StateSaveLocation={root / "state"}
SlurmdSpoolDir={root / "spool"}
SlurmctldPidFile={root / "slurmctld.pid"}
SlurmdPidFile={root / "slurmd.pid"}
SlurmctldLogFile={root / "log" / "slurmctld.log"}
SlurmdLogFile={root / "log" / "slurmd.log"}
SlurmctldDebug=info
SlurmdDebug=info
MinJobAge={MIN_JOB_AGE}
# a job asking for more than the partition has is refused at submission, not queued
EnforcePartLimits=ALL
KillWait=5
ReturnToService=2
SchedulerType=sched/backfill
NodeName={name} NodeAddr=127.0.0.1 {layout} RealMemory={memory} State=UNKNOWN
PartitionName={PARTITION} Nodes={name} Default=YES MaxTime=INFINITE DefMemPerCPU=256 State=UP
"""


@dataclass
class SlurmCluster:
    """A running single-node Slurm: where it is, and how to reach it."""

    root: Path
    node: str
    cpus: int
    memory_mb: int
    partition: str = PARTITION
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """An environment in which Slurm's commands reach this cluster."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def labdeck_config(self) -> str:
        """Hub config lines that put labdeck's training jobs on this cluster."""
        return (
            'c.TrainingJobs.backend_class = "slurm"\n'
            f"c.SlurmSettings.slurm_conf = {str(self.conf)!r}\n"
            "c.SlurmSettings.poll_interval_seconds = 0.5\n"
        )

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        """A Slurm command against this cluster."""
        return subprocess.run(
            [which(argv[0]), *argv[1:]],
            capture_output=True,
            text=True,
            timeout=30,
            env=self.env,
            check=check,
        )

    def job(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` of a job, as a dict (JobState, Reason, ExitCode, UserId...)."""
        return parse_scontrol(self.run("scontrol", "-o", "show", "job", str(job_id)).stdout)

    def squeue(self, *args: str) -> list[list[str]]:
        """Rows of `squeue -h -o '%i|%T|%r|%u'` (job id, state, reason, user)."""
        out = self.run("squeue", "-h", "-o", "%i|%T|%r|%u", *args).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def node_state(self) -> str:
        result = self.run("sinfo", "-h", "-n", self.node, "-o", "%T", check=False)
        return result.stdout.strip() if result.returncode == 0 else ""

    def controller_answers(self) -> bool:
        result = self.run("scontrol", "ping", check=False)
        return result.returncode == 0 and "is UP" in result.stdout

    def logs(self) -> str:
        """The daemons' logs, for a failing test's message."""
        parts = []
        for path in sorted((self.root / "log").glob("*")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)

    # -- lifecycle --------------------------------------------------------------------------
    def _start(self, name: str, argv: list[str]) -> None:
        out = open(self.root / "log" / f"{name}.out", "ab")
        try:
            self.processes[name] = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        finally:
            out.close()

    def _check_running(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.logs()}")

    def start(self) -> "SlurmCluster":
        munge = self.root / "munge"
        munge.mkdir(mode=0o755)
        key = munge / "munge.key"
        subprocess.run(
            [which("mungekey"), "--create", "--keyfile", str(key)],
            check=True,
            capture_output=True,
            timeout=30,
        )
        key.chmod(0o400)
        socket_path = munge / "munge.socket"
        self._start(
            "munged",
            [
                which("munged"),
                "--foreground",
                *("--socket", str(socket_path), "--key-file", str(key)),
                *("--pid-file", str(munge / "munged.pid")),
                *("--seed-file", str(munge / "munged.seed")),
                *("--log-file", str(self.root / "log" / "munged.log")),
            ],
        )
        wait_for(
            lambda: self._check_running() or socket_path.exists(), START_TIMEOUT, 0.05, "munged"
        )
        self._start("slurmctld", [which("slurmctld"), "-D", "-i", "-f", str(self.conf)])
        wait_for(
            lambda: self._check_running() or self.controller_answers(),
            START_TIMEOUT,
            0.1,
            f"slurmctld to answer\n{self.logs()}",
        )
        self._start("slurmd", [which("slurmd"), "-D", "-f", str(self.conf)])
        wait_for(
            lambda: self._check_running() or self.node_state() == "idle",
            START_TIMEOUT,
            0.1,
            f"the node to be idle\n{self.logs()}",
        )
        return self

    def stray_processes(self) -> set[int]:
        """Processes started by this cluster's daemons (job steps and their children carry
        its SLURM_CONF in their environment), besides the daemons themselves."""
        marker = f"SLURM_CONF={self.conf}".encode()
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if marker in environ.split(b"\0"):
                found.add(int(entry.name))
        return found - {proc.pid for proc in self.processes.values()}

    def stop(self) -> None:
        """Cancel every job, wait until none is left, stop the daemons; nothing remains."""
        if self.processes.get("slurmctld") and self.processes["slurmctld"].poll() is None:
            self.run("scancel", "--full", "--partition", self.partition, check=False)
            try:
                wait_for(
                    lambda: not self.squeue("-t", "PENDING,RUNNING,COMPLETING,SUSPENDED"),
                    STOP_TIMEOUT,
                    0.2,
                    "Slurm's jobs to end",
                )
            except (TimeoutError, subprocess.SubprocessError):
                pass  # the daemons are stopped anyway, and what is left killed below
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.processes.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        for pid in self.stray_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and any(alive(p) for p in self.stray_processes()):
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> SlurmCluster:
    """A fresh single-node cluster in a folder of its own under /tmp (every account may
    pass through it, to reach munge's socket and read slurm.conf)."""
    root = Path(tempfile.mkdtemp(prefix="labdeck-slurm-", dir="/tmp"))
    root.chmod(0o755)
    for name in ("state", "spool", "log"):
        (root / name).mkdir(mode=0o700)
    (root / "plugstack.conf").write_text("")  # none of the machine's SPANK plugins
    node = hardware()
    conf = slurm_conf(root, node, free_port(), free_port())
    (root / "slurm.conf").write_text(conf)
    cluster = SlurmCluster(
        root,
        node["NodeName"],
        int(node["CPUs"]),
        int(int(node["RealMemory"]) * 0.8),
    )
    try:
        return cluster.start()
    except BaseException:
        cluster.stop()
        raise


def slurm_cluster():
    """Fixture body: a cluster for the tests that need one, stopped at the end; skips
    when Slurm's packages are not installed (scripts/setup --test installs them)."""
    missing = missing_binaries()
    if missing:
        pytest.skip(
            f"Slurm is not installed here (missing {', '.join(missing)}): run "
            "scripts/setup --test, which installs slurm-wlm and munge"
        )
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()
    leftovers = [p.pid for p in cluster.processes.values() if alive(p.pid)]
    assert leftovers == [] and not cluster.root.exists(), leftovers
