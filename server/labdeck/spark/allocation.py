"""A Spark cluster inside its Slurm allocation: the batch script of a cluster that
SlurmSparkBackend (spark/slurm.py) submits runs

    python -m labdeck.spark.allocation <cluster folder>/allocation.json

as the owner's account. It starts the master, learns its port as labdeck does (its log,
confirmed by the kernel), starts the workers on it, and keeps them while the allocation
lasts: when Slurm ends the allocation (scancel, time limit) it stops them, and when one
of them exits it stops the others and exits, which ends the allocation.

Its settings file, like the Spark settings file beside it, is the account's (0600): it
holds the cluster's `spark.authenticate` secret, which goes into the JVMs' environment,
never on a command line. Every file the JVMs make is private to the account (umask 077).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

from ..supervisor import ExitStatus, open_own_file, read_own_text, tail_lines
from .spec import ClusterSpec
from .standalone import (
    LOG_TAIL_BYTES,
    MASTER_START_TIMEOUT,
    SETTINGS_FILE,
    master_args,
    master_ports,
    spark_class,
    spark_environment,
    worker_args,
)

SETTINGS_NAME = "allocation.json"
# how its output says what ended the cluster: "cluster ended: worker-0 killed by SIGKILL"
ENDED = "cluster ended: "
# Slurm sends SIGKILL KillWait seconds (30 by default) after SIGTERM: stop well before
STOP_GRACE_SECONDS = 10
POLL_SECONDS = 0.2


class Stopped(Exception):
    """Slurm (or someone) asked the cluster to stop."""


class Ended(Exception):
    """A JVM of the cluster exited (or did not start): the cluster ends."""

    def __init__(self, name: str, what: str):
        super().__init__(f"{name} {what}")


def _stop_asked(signum, frame):
    raise Stopped(signal.Signals(signum).name)


class Cluster:
    """The master and workers this allocation runs."""

    def __init__(self, settings: dict):
        self.work_dir = Path(settings["work_dir"])
        self.spec = ClusterSpec(**settings["spec"])
        self.env = {
            **os.environ,
            **spark_environment(self.work_dir, settings["cluster"], settings["secret"]),
        }
        self.settings = self.work_dir / SETTINGS_FILE
        self.processes: dict[str, subprocess.Popen] = {}

    def log_path(self, name: str) -> Path:
        return self.work_dir / "logs" / f"{name}.log"

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        # the service made each log file, the account's, in a folder the account may
        # only pass through
        with os.fdopen(open_own_file(self.log_path(name), os.O_WRONLY | os.O_APPEND), "ab") as log:
            process = subprocess.Popen(
                spark_class(args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.work_dir,
            )
        self.processes[name] = process
        print(f"started {name} (pid {process.pid})", flush=True)
        return process

    def master_rpc_port(self, master: subprocess.Popen) -> int:
        """The port the master bound for its RPC, once it says so and listens there."""
        give_up = time.monotonic() + MASTER_START_TIMEOUT
        while time.monotonic() < give_up:
            if master.poll() is not None:
                status = ExitStatus.from_returncode(master.returncode)
                raise Ended("master", f"{status.describe()} while starting")
            ports = master_ports(master.pid, tail_lines(self.log_path("master"), LOG_TAIL_BYTES))
            if ports is not None:
                return ports[0]
            time.sleep(POLL_SECONDS)
        raise Ended("master", f"did not start within {MASTER_START_TIMEOUT} s")

    def run(self) -> NoReturn:
        """Start the master, then the workers; Ended once one of them exits."""
        master = self.start("master", master_args(self.settings))
        master_url = f"spark://127.0.0.1:{self.master_rpc_port(master)}"
        for index in range(self.spec.workers):
            self.start(
                f"worker-{index}", worker_args(self.spec, self.work_dir, self.settings, master_url)
            )
        pid, status = os.wait()
        name = next((n for n, p in self.processes.items() if p.pid == pid), str(pid))
        raise Ended(name, ExitStatus.from_returncode(os.waitstatus_to_exitcode(status)).describe())

    def stop(self) -> None:
        """SIGTERM every JVM (workers first), SIGKILL those left after a grace period."""
        left = [p for p in reversed(self.processes.values()) if p.poll() is None]
        for process in left:
            process.send_signal(signal.SIGTERM)
        give_up = time.monotonic() + STOP_GRACE_SECONDS
        for process in left:
            try:
                process.wait(max(0.1, give_up - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m labdeck.spark.allocation <folder>/{SETTINGS_NAME}")
        return 2
    os.umask(0o077)
    cluster = Cluster(json.loads(read_own_text(Path(args[0]))))
    signal.signal(signal.SIGTERM, _stop_asked)
    signal.signal(signal.SIGINT, _stop_asked)
    try:
        cluster.run()
    except Stopped as e:
        print(f"stopping the cluster ({e})", flush=True)
        return 0
    except Ended as e:
        print(f"{ENDED}{e}", flush=True)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a stop is under way: finish it
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
