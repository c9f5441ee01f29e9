"""Livy benchmark: Scala sessions and batches through labdeck's gateway against Spark's own
spark-shell and spark-submit, on the same labdeck cluster (1 worker, 1 core, 1g), one run.

Each of --repeat repetitions measures, taking turns going first (one application at a
time: the cluster has one core):

  scala session   labdeck   POST livy/sessions {"kind": "spark"}, GET it every 50 ms
                            until `idle` (a driver JVM with the Scala interpreter ready)
                  baseline  pyspark's bin/spark-shell on the cluster's master (its secret
                            and the executor settings labdeck gives drivers in a 0600
                            properties file), from the Popen to its "Spark session
                            available" line
  first result    labdeck   the session above, then POST `spark.range(100).count()` and
                            GET it every 50 ms until `available`: from the session's POST
                  baseline  the same line piped to the shell: from the Popen to its
                            `res0` line
  batch running   labdeck   POST livy/batches {"file": a PySpark script in the user's
                            home}, then the master's JSON every 50 ms until it lists the
                            batch's application
                  baseline  pyspark's bin/spark-submit of the same script (same settings
                            file), from the Popen until the master lists it
  batch done      both      the same start until the batch is `success` / spark-submit
                            exited 0

labdeck's processes run as the user's own account in cgroups; the baselines run as
root, directly: the figures include what isolation and the gateway cost.

Run it from the repository root, as root:

    .venv/bin/python benchmarks/livy.py [--repeat 3] [--json PATH] [--keep]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally (a session, statement or batch that does not reach its state, a wrong
result).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from _compare import compare, print_comparison
from _hubs import (
    BenchmarkError,
    Hub,
    clean_up,
    launch_labdeck_hub,
    make_root,
    pids_running_under,
    report_failure,
    restore_default_signals,
    wait_until_hub_ready,
)
from spark import (
    CLUSTER_SPEC,
    STOP_TIMEOUT,
    USER,
    Labdeck,
    delete_labdeck_cluster,
    master_status,
    spark_class,
    start_labdeck_cluster,
    stop_group,
    user_token,
    wait_for,
    wait_no_applications,
)

POLL = 0.05
SESSION_TIMEOUT = 240
STATEMENT = "spark.range(100).count()"
RESULT = "Long = 100"
BATCH_SCRIPT = """\
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
print("counted", spark.range(1000).count())
spark.stop()
"""
ORDER = ("labdeck", "baseline")


def shared_settings(cluster: dict) -> dict:
    """What labdeck's gateway gives a driver on this cluster, for the baselines too."""
    return {
        "spark.authenticate": "true",
        "spark.authenticate.secret": cluster["secret"],
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.cores.max": str(CLUSTER_SPEC["worker_cores"]),
        "spark.executor.memory": "1024m",
        "spark.executor.cores": str(CLUSTER_SPEC["worker_cores"]),
        "spark.ui.showConsoleProgress": "false",
    }


def properties_file(directory: Path, cluster: dict) -> Path:
    """The settings as a spark-defaults style file only root can read (it holds the
    cluster's secret, which stays off command lines)."""
    path = directory / "bench.conf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        for key, value in shared_settings(cluster).items():
            handle.write(f"{key} {value}\n")
    return path


class Lines:
    """A process's stdout lines, each with the monotonic time it arrived."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.seen: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.seen.append((time.monotonic(), line))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float) -> float:
        """When the first line holding `text` arrived."""

        def found():
            return next((at for at, line in self.seen if text in line), None)

        with self._changed:
            self._changed.wait_for(
                lambda: found() is not None or self.process.poll() is not None, timeout
            )
            at = found()
        if at is None:
            tail = "".join(line for _, line in self.seen[-20:])
            raise BenchmarkError(f"no {text!r} from the baseline in {timeout:.0f} s:\n{tail}")
        return at


# --- Scala sessions ----------------------------------------------------------------------


def labdeck_scala(lab: Labdeck, cluster: dict) -> dict:
    base = f"clusters/{cluster['id']}/livy/sessions"
    began = time.monotonic()
    response = lab.api("POST", base, json={"kind": "spark"})
    if response.status_code != 201:
        raise BenchmarkError(f"creating a Scala session gave {response.status_code}")
    session_id = response.json()["id"]

    def idle():
        state = lab.api("GET", f"{base}/{session_id}").json()["state"]
        if state not in ("starting", "idle"):
            raise BenchmarkError(f"the Scala session became {state}")
        return state == "idle"

    wait_for(idle, SESSION_TIMEOUT, "the Scala session to be idle", POLL)
    ready = time.monotonic()
    statements = f"{base}/{session_id}/statements"
    statement = lab.api("POST", statements, json={"code": STATEMENT}).json()

    def available():
        found = lab.api("GET", f"{statements}/{statement['id']}").json()
        return found if found["state"] == "available" else None

    done = wait_for(available, SESSION_TIMEOUT, "the first Scala statement", POLL)
    finished = time.monotonic()
    text = done["output"].get("data", {}).get("text/plain", "")
    if RESULT not in text:
        raise BenchmarkError(f"the Scala statement answered {done['output']}")
    lab.api("DELETE", f"{base}/{session_id}")
    wait_no_applications(cluster)
    return {
        "session": ready - began,
        "first statement": finished - ready,
        "first result": finished - began,
    }


def shell_scala(root: Path, cluster: dict, number: int, started: list) -> dict:
    directory = root / "baseline" / f"shell-{number}"
    directory.mkdir(parents=True)
    shell = spark_class().parent / "spark-shell"
    began = time.monotonic()
    process = subprocess.Popen(
        [
            str(shell),
            *("--master", cluster["master_url"]),
            *("--properties-file", str(properties_file(directory, cluster))),
            *("--name", f"baseline-shell-{number}"),
        ],
        cwd=directory,
        env=dict(os.environ, SPARK_LOCAL_IP="127.0.0.1"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(directory / "shell.log").open("wb"),
        text=True,
        start_new_session=True,
        preexec_fn=restore_default_signals,
    )
    started.append(process.pid)
    lines = Lines(process)
    try:
        process.stdin.write(STATEMENT + "\n")
        process.stdin.flush()
        ready = lines.wait_for("Spark session available", SESSION_TIMEOUT)
        finished = lines.wait_for(RESULT, SESSION_TIMEOUT)
        process.stdin.write(":quit\n")
        process.stdin.flush()
        process.wait(STOP_TIMEOUT)
    finally:
        if process.poll() is None:
            stop_group([process.pid])
    wait_no_applications(cluster)
    return {
        "session": ready - began,
        "first statement": finished - ready,
        "first result": finished - began,
    }


# --- batches ----------------------------------------------------------------------------


def listed(cluster: dict, name: str) -> bool:
    """The master lists an application of this name (running or done)."""
    status = master_status(cluster["webui_port"], cluster["secret"]) or {}
    apps = status.get("activeapps", []) + status.get("completedapps", [])
    return any(app.get("name") == name for app in apps)


def labdeck_batch(lab: Labdeck, cluster: dict, number: int) -> dict:
    name = f"labdeck-batch-{number}"
    base = f"clusters/{cluster['id']}/livy/batches"
    began = time.monotonic()
    response = lab.api("POST", base, json={"file": "bench_batch.py", "name": name})
    if response.status_code != 201:
        raise BenchmarkError(f"submitting a batch gave {response.status_code}: {response.text}")
    batch_id = response.json()["id"]
    wait_for(lambda: listed(cluster, name), SESSION_TIMEOUT, "the batch's application", POLL)
    running = time.monotonic()

    def ended():
        state = lab.api("GET", f"{base}/{batch_id}/state").json()["state"]
        if state in ("dead", "killed"):
            log = lab.api("GET", f"{base}/{batch_id}/log").json()["log"]
            raise BenchmarkError(f"the batch ended {state}:\n" + "\n".join(log[-20:]))
        return state == "success"

    wait_for(ended, SESSION_TIMEOUT, "the batch to succeed", POLL)
    finished = time.monotonic()
    wait_no_applications(cluster)
    return {"batch running": running - began, "batch done": finished - began}


def plain_batch(root: Path, cluster: dict, script: Path, number: int, started: list) -> dict:
    directory = root / "baseline" / f"batch-{number}"
    directory.mkdir(parents=True)
    name = f"baseline-batch-{number}"
    submit = spark_class().parent / "spark-submit"
    began = time.monotonic()
    process = subprocess.Popen(
        [
            str(submit),
            *("--master", cluster["master_url"]),
            *("--properties-file", str(properties_file(directory, cluster))),
            *("--name", name),
            str(script),
        ],
        cwd=directory,
        env=dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable),
        stdout=(directory / "submit.out").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=restore_default_signals,
    )
    started.append(process.pid)
    try:
        wait_for(lambda: listed(cluster, name), SESSION_TIMEOUT, "the plain application", POLL)
        running = time.monotonic()
        wait_for(lambda: process.poll() is not None, SESSION_TIMEOUT, "spark-submit", POLL)
        finished = time.monotonic()
    finally:
        if process.poll() is None:
            stop_group([process.pid])
    if process.returncode != 0:
        raise BenchmarkError(f"spark-submit exited with {process.returncode}")
    wait_no_applications(cluster)
    return {"batch running": running - began, "batch done": finished - began}


# --- the run ----------------------------------------------------------------------------


def write_batch_script(lab: Labdeck) -> Path:
    """The batch's script, in the user's home (readable by their account)."""
    script = lab.state_dir / "homes" / USER / "bench_batch.py"
    script.write_text(BATCH_SCRIPT)
    script.chmod(0o644)
    return script


def run(args: argparse.Namespace, root: Path, hubs: list[Hub], started: list[int]) -> dict:
    print("starting labdeck hub...", flush=True)
    hubs.append(launch_labdeck_hub(root))
    hub = hubs[0]
    wait_until_hub_ready(hub)
    hub.use_token()
    lab = Labdeck(hub)
    lab.client.headers["Authorization"] = f"token {user_token(hub)}"
    cluster = start_labdeck_cluster(lab, "livy-bench")
    script = write_batch_script(lab)
    figures: dict[str, dict[str, list[float]]] = {}

    def add(side: str, measured: dict) -> None:
        for figure, seconds in measured.items():
            figures.setdefault(figure, {"labdeck": [], "baseline": []})[side].append(seconds)

    for number in range(args.repeat):
        order = ORDER if number % 2 == 0 else ORDER[::-1]
        for side in order:
            if side == "labdeck":
                add(side, labdeck_scala(lab, cluster))
                add(side, labdeck_batch(lab, cluster, number))
            else:
                add(side, shell_scala(root, cluster, number, started))
                add(side, plain_batch(root, cluster, script, number, started))
        print(f"repetition {number + 1} of {args.repeat} done", flush=True)
    delete_labdeck_cluster(lab, cluster)
    return {name: compare(values, "labdeck", "baseline") for name, values in figures.items()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-livy-bench-")
    hubs: list[Hub] = []
    started: list[int] = []
    load = os.getloadavg()[0]
    try:
        scenarios = run(args, root, hubs, started)
    except (BenchmarkError, requests.RequestException, OSError, ValueError, KeyError) as e:
        report_failure("livy", e, hubs)
        return 1
    finally:
        ours = set(pids_running_under(root))
        stop_group([pid for pid in started if pid in ours], timeout=10)
        clean_up(root, hubs, keep=args.keep)
    print(f"Livy: {args.repeat} repetitions, load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print_comparison(scenarios, "labdeck", "baseline")
    if args.json:
        report = {"benchmark": "livy", "repeat": args.repeat, "scenarios": scenarios}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
