"""Spark benchmark: labdeck's clusters and Livy gateway against plain Spark, same machine.

One `labdeck up` hub in a temp dir, one user with a token of their own, one cluster at a
time (1 worker, 1 core, 1g). Each of --repeat repetitions measures, taking turns going
first:

  cluster     labdeck   POST clusters, then GET clusters/<id> every 50 ms until RUNNING
              baseline  the same standalone master and worker started directly with
                        pyspark's bin/spark-class (127.0.0.1, free ports, REST port off):
                        the master first, the worker once the master's /json/ says ALIVE
                        (as labdeck does), timed until /json/ shows the worker ALIVE
                        (polled every 50 ms); nothing else runs on it
  session     labdeck   on the labdeck cluster: POST livy/sessions {"kind": "pyspark"},
                        GET livy/sessions/<sid> every 50 ms until `idle`
              baseline  on the same master, once labdeck's session is gone: a fresh
                        Python subprocess running a classic `SparkSession.builder
                        .master(...).getOrCreate()` with the executor settings labdeck
                        gives its drivers; timed (one monotonic clock for both processes)
                        from the Popen to getOrCreate() returning
  first %%sql the exact code sparkmagic sends for `%%sql SELECT 1 AS a`, as the first
              statement of each session: labdeck from the POST to the GET that shows it
              `available`; baseline `exec` of the same code in-process (perf_counter).
              Both include the wait for the application's executor; "session to first
              result" is the session time plus this
  memory      PSS and RSS (/proc/<pid>/smaps_rollup) of the cluster's master + worker when
              it is ready; of a session's driver (Python + its java child) and of its
              executor (its JVM, a child of the worker, and the JVM's Python workers:
              sparkmagic's toJSON().take() runs Python) right after the first %%sql
  deletes     DELETE clusters/<id> (204) and DELETE livy/sessions/<sid> until answered,
              vs SIGTERM to the baseline's process groups / spark.stop() until exited

In the last repetition's sessions only, the small statements `1+1` and
`spark.range(100).count()`, --statements times each after 20 uncounted runs (a fresh
executor's JIT warms up over its first ~20 jobs): POST to available through the gateway
(hub proxy -> labdeck service -> driver, one keep-alive connection as sparkmagic's
requests.Session), GET polled every --poll-ms (default 10 ms) after each answer. For a
breakdown, alternating with the gateway, the same straight to the session's driver on its
loopback port with its token (one connection per request, as the service's tornado client
does). Baseline: the same code `exec`-ed in the plain session, perf_counter around exec,
run as often. Overhead = gateway median - in-process median. Then --statements GETs of a
finished statement on each path: what one request costs.

Run it from the repository root:

    .venv/bin/python benchmarks/spark.py [--repeat 3] [--statements 30] [--poll-ms 10] \
        [--json PATH] [--keep]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally (a hub, cluster or session that does not start, a statement with an error
or a wrong result, a process left running after a DELETE answered).
"""

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from _hubs import (
    POLL_SECONDS,
    BenchmarkError,
    Hub,
    clean_up,
    create_user,
    end_processes,
    free_port,
    is_running,
    launch_labdeck_hub,
    make_root,
    pids_running_under,
    report_failure,
    restore_default_signals,
    wait_until_hub_ready,
)
from labdeck.spark.ui_auth import ui_headers

SERVICE_API = "services/labdeck/api/v1/"
USER = "sparkbench"
CLUSTER_SPEC = {"workers": 1, "worker_cores": 1, "worker_memory": "1g"}
IDLE_TIMEOUT_SECONDS = 3600
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
EXECUTOR_CLASS = "CoarseGrainedExecutorBackend"
DRIVER_MARK = "labdeck.spark.driver"
# What sparkmagic 0.23 sends for a `%%sql SELECT 1 AS a` cell (Livy statement code).
SPARKMAGIC_SQL = (
    "import sys\nfor yQeKOYBsFgLWWGWZJu3y in "
    'spark.sql(u"""SELECT 1 AS a """).toJSON(use_unicode=(sys.version_info.major > 2))'
    ".take(2500): print(yQeKOYBsFgLWWGWZJu3y)"
)
SPARKMAGIC_SQL_OUTPUT = '{"a":1}'
# Small statements and the text/plain each must give.
STATEMENTS = {"1+1": "2", "spark.range(100).count()": "100"}
# Uncounted runs of each small statement first: a fresh executor's JIT warms up over
# the first ~20 jobs (spark.range(100).count() goes from ~500 ms to ~200 ms here).
WARMUPS = 20
# Between the plain session's statements: about the gap a polled session leaves between
# one statement's end and the next POST. Back to back, spark.range(100).count() took
# twice as long here (271 ms against 133 ms median: the JVMs' own background work then
# competes with the next job on 2 cores), which no notebook user sees.
PLAIN_PAUSE_SECONDS = 0.02
CLUSTER_TIMEOUT = 120
SESSION_TIMEOUT = 180
STATEMENT_TIMEOUT = 120
STOP_TIMEOUT = 60
KINDS = ("labdeck", "baseline")
RESULT_PREFIX = "BENCH-RESULT "

# The baseline session: a plain classic PySpark driver. It reports monotonic times (the
# same clock as the benchmark's on Linux) once its first result is in, waits (its memory
# is read then), runs the small statements, reports their durations, and keeps the
# session until told to stop. Reports are single stdout lines with a prefix.
BASELINE_SESSION = textwrap.dedent(
    """
    import contextlib, io, json, os, sys, time

    config = json.loads(sys.argv[1])
    started = time.monotonic()
    from pyspark.sql import SparkSession

    imported = time.monotonic()
    builder = SparkSession.builder.master(config["master"]).appName(config["app_name"])
    for key, value in config["conf"].items():
        builder = builder.config(key, value)
    secret = os.environ.pop("_SPARK_AUTH_SECRET", None)
    if secret:
        # as labdeck's drivers join a cluster: the JVM first, then the secret through
        # py4j (pyspark would put it on the JVM's command line)
        from pyspark import SparkConf, SparkContext

        SparkContext._ensure_initialized(conf=SparkConf().setAll(config["conf"].items()))
        builder = builder.config("spark.authenticate.secret", secret)
    spark = builder.getOrCreate()
    session_ready = time.monotonic()
    namespace = {"spark": spark, "sc": spark.sparkContext}


    def timed(code):
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink):
            begin = time.perf_counter()
            exec(code, namespace)
            seconds = time.perf_counter() - begin
        return seconds, sink.getvalue().strip()


    first_sql, first_sql_output = timed(config["first_sql"])
    first_result = time.monotonic()
    report = {
        "started": started,
        "imported": imported,
        "session_ready": session_ready,
        "first_sql_seconds": first_sql,
        "first_sql_output": first_sql_output,
        "first_result": first_result,
        "app_id": spark.sparkContext.applicationId,
    }
    print(config["result_prefix"] + json.dumps(report), flush=True)
    sys.stdin.readline()
    samples = {code: [] for code in config["statements"]}
    for index in range(config["warmups"] + config["repeat"]):
        for code in config["statements"]:
            # As many runs as the labdeck session makes (one per target); the first counts.
            runs = []
            for _ in range(config["runs_per_round"]):
                time.sleep(config["pause"])
                runs.append(timed(code)[0])
            if index >= config["warmups"]:
                samples[code].append(runs[0])
    check = {code: str(eval(code, namespace)) for code in config["statements"]}
    report = {"samples": samples, "check": check}
    print(config["result_prefix"] + json.dumps(report), flush=True)
    sys.stdin.readline()
    spark.stop()
    """
)


# --- small helpers ----------------------------------------------------------------------


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def spark_class() -> Path:
    spec = importlib.util.find_spec("pyspark")  # not imported: only its location matters
    if spec is None or not spec.submodule_search_locations:
        raise BenchmarkError("pyspark is not installed beside this interpreter")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "spark-class"


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")[:-1]


def all_pids() -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]


def parent_of(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def descendants(pid: int) -> list[int]:
    parents = {p: parent_of(p) for p in all_pids()}
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def pids_with(*markers: str) -> list[int]:
    """Live processes whose command line contains every marker."""
    found = []
    for pid in all_pids():
        line = "\0".join(cmdline(pid))
        if line and all(marker in line for marker in markers) and is_running(pid):
            found.append(pid)
    return found


def memory(pids: list[int]) -> dict:
    """Summed PSS and RSS in MiB (smaps_rollup), and how many processes."""
    pss = rss = 0
    counted = 0
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue  # gone
        fields = {line.split(":")[0]: line.split()[1] for line in lines if ":" in line}
        pss += int(fields.get("Pss", 0))
        rss += int(fields.get("Rss", 0))
        counted += 1
    return {"pss_mib": pss / 1024, "rss_mib": rss / 1024, "processes": counted}


def master_status(webui_port: int, secret: str | None = None) -> dict | None:
    """A master's JSON view; a labdeck cluster's UI asks for a token of its key."""
    try:
        response = requests.get(
            f"http://127.0.0.1:{webui_port}/json/", headers=ui_headers(secret), timeout=2
        )
        return response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None


def alive_workers(status: dict | None) -> int:
    return sum(1 for w in (status or {}).get("workers", []) if w.get("state") == "ALIVE")


def wait_for(condition, timeout: float, what: str, poll: float = POLL_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise BenchmarkError(f"{what} did not happen within {timeout:.0f} s")


def wait_no_applications(cluster: dict) -> None:
    """The cluster's core is free again: no application, no executor process."""
    executor_parent = cluster["pids"]["worker"]

    def free() -> bool:
        status = master_status(cluster["webui_port"], cluster.get("secret"))
        executors = [p for p in descendants(executor_parent) if is_running(p)]
        return status is not None and not status.get("activeapps") and not executors

    wait_for(free, STOP_TIMEOUT, "the application's executor to end")


def stop_group(pids: list[int], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM each process group (spark-class execs java in the group's leader)."""
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(is_running(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if is_running(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- the labdeck side -------------------------------------------------------------------


@dataclass
class Labdeck:
    hub: Hub
    client: requests.Session = field(default_factory=requests.Session)

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 60)
        return self.client.request(method, f"{self.hub.url}{SERVICE_API}{path}", **kwargs)

    @property
    def state_dir(self) -> Path:
        return self.hub.workdir / "state"


def user_token(hub: Hub) -> str:
    create_user(hub, USER)
    response = hub.api("POST", f"users/{USER}/tokens", json={"note": "spark benchmark"})
    if response.status_code not in (200, 201):
        raise BenchmarkError(f"creating {USER}'s token gave {response.status_code}")
    return response.json()["token"]


def cluster_processes(cluster_id: str) -> dict[str, int]:
    """The master's and the worker's pids (their command lines name the cluster)."""
    found = {}
    for role, cls in (("master", MASTER_CLASS), ("worker", WORKER_CLASS)):
        pids = pids_with(cluster_id, cls)
        if len(pids) != 1:
            raise BenchmarkError(f"expected one {role} of {cluster_id}, found {pids}")
        found[role] = pids[0]
    return found


def start_labdeck_cluster(lab: Labdeck, name: str) -> dict:
    body = {"name": name, **CLUSTER_SPEC, "idle_timeout_seconds": IDLE_TIMEOUT_SECONDS}
    began = time.monotonic()
    response = lab.api("POST", "clusters", json=body)
    if response.status_code != 201 or response.json().get("state") != "STARTING":
        raise BenchmarkError(f"creating a cluster gave {response.status_code}: {response.text}")
    cluster_id = response.json()["id"]

    def running():
        cluster = lab.api("GET", f"clusters/{cluster_id}").json()
        if cluster["state"] not in ("STARTING", "RUNNING"):
            raise BenchmarkError(f"cluster {cluster_id} is {cluster['state']}: {cluster}")
        return cluster if cluster["state"] == "RUNNING" else None

    cluster = wait_for(running, CLUSTER_TIMEOUT, f"cluster {cluster_id} RUNNING")
    seconds = time.monotonic() - began
    if cluster.get("workers_alive") != 1:
        raise BenchmarkError(f"cluster {cluster_id} is RUNNING without its worker: {cluster}")
    pids = cluster_processes(cluster_id)
    state = backend_state(lab, cluster_id)
    return {
        "id": cluster_id,
        "seconds": seconds,
        "pids": pids,
        "master_url": f"spark://127.0.0.1:{state['master_port']}",
        "webui_port": state["webui_port"],
        # the cluster's spark.authenticate secret: the baseline driver joins with it
        "secret": state["secret"],
        "memory": memory(list(pids.values())),
    }


def backend_state(lab: Labdeck, cluster_id: str) -> dict:
    """Ports and secret of a labdeck cluster, as its service saved them (we are root)."""
    database = sqlite3.connect(lab.state_dir / "service" / "labdeck.sqlite")
    with contextlib.closing(database):
        row = database.execute(
            "SELECT backend_state FROM resources WHERE id = ?", (cluster_id,)
        ).fetchone()
    return json.loads(row[0])


def delete_labdeck_cluster(lab: Labdeck, cluster: dict) -> float:
    began = time.monotonic()
    response = lab.api("DELETE", f"clusters/{cluster['id']}")
    seconds = time.monotonic() - began
    if response.status_code != 204:
        raise BenchmarkError(f"deleting {cluster['id']} gave {response.status_code}")
    left = pids_with(cluster["id"])
    if left:
        raise BenchmarkError(f"{cluster['id']} answered 204 with processes left: {left}")
    return seconds


def livy_session(lab: Labdeck, cluster: dict) -> tuple[str, float]:
    """Create a Livy session; return its id and the seconds until it was idle."""
    base = f"clusters/{cluster['id']}/livy/sessions"
    began = time.monotonic()
    response = lab.api("POST", base, json={"kind": "pyspark"})
    if response.status_code != 201 or response.json().get("state") != "starting":
        raise BenchmarkError(f"creating a session gave {response.status_code}: {response.text}")
    session_id = str(response.json()["id"])

    def idle():
        session = lab.api("GET", f"{base}/{session_id}").json()
        if session["state"] not in ("not_started", "starting", "idle"):
            log = "\n".join(session.get("log", [])[-15:])
            raise BenchmarkError(f"session {session_id} is {session['state']}:\n{log}")
        return session["state"] == "idle"

    wait_for(idle, SESSION_TIMEOUT, f"session {session_id} idle")
    return session_id, time.monotonic() - began


@dataclass
class StatementTarget:
    """Where statements are POSTed and polled: the gateway, or a driver directly."""

    name: str
    client: requests.Session
    base: str  # ends with /statements
    poll: float
    gets: list[float] = field(default_factory=list)  # GET round trips, seconds
    intervals: list[float] = field(default_factory=list)  # between successive GET starts
    last_url: str = ""  # the last statement run
    last_executed_ms: int = 0  # its Livy `completed - started` (the driver's clock, ms)

    def run(self, code: str) -> tuple[float, str]:
        """POST to available, in seconds, and the text/plain output."""
        began = time.perf_counter()
        response = self.client.post(self.base, json={"code": code, "kind": "pyspark"}, timeout=60)
        if response.status_code != 201:
            raise BenchmarkError(f"{self.name}: POST statement gave {response.status_code}")
        url = self.last_url = f"{self.base}/{response.json()['id']}"
        last_get = None
        while True:
            sent = time.perf_counter()
            if last_get is not None:
                self.intervals.append(sent - last_get)
            last_get = sent
            statement = self.client.get(url, timeout=60).json()
            answered = time.perf_counter()
            self.gets.append(answered - sent)
            if statement["state"] == "available":
                break
            if statement["state"] not in ("waiting", "running"):
                raise BenchmarkError(f"{self.name}: statement {code!r} is {statement['state']}")
            if answered - began > STATEMENT_TIMEOUT:
                raise BenchmarkError(f"{self.name}: statement {code!r} still runs")
            time.sleep(self.poll)
        output = statement.get("output") or {}
        if output.get("status") != "ok":
            raise BenchmarkError(f"{self.name}: statement {code!r} failed: {output}")
        self.last_executed_ms = statement["completed"] - statement["started"]
        return answered - began, output.get("data", {}).get("text/plain", "")


def gateway_target(lab: Labdeck, cluster: dict, session_id: str, poll: float):
    base = f"{lab.hub.url}{SERVICE_API}clusters/{cluster['id']}/livy/sessions/{session_id}"
    return StatementTarget("gateway", lab.client, f"{base}/statements", poll)


def direct_target(lab: Labdeck, cluster: dict, session_id: str, poll: float):
    """The session's driver on its loopback port (None if its ready file is not found)."""
    ready = lab.state_dir / "spark" / cluster["id"] / "sessions" / session_id / "ready.json"
    try:
        info = json.loads(ready.read_text())
    except (OSError, ValueError):
        return None
    client = requests.Session()
    client.headers["Authorization"] = f"token {info['token']}"
    # One connection per request, as the service's tornado client makes them.
    client.headers["Connection"] = "close"
    return StatementTarget("driver", client, f"http://127.0.0.1:{info['port']}/statements", poll)


def check_output(where: str, code: str, got: str, expected: str) -> None:
    if got.strip() != expected:
        raise BenchmarkError(f"{where}: {code!r} gave {got!r}, expected {expected!r}")


def measure_statements(targets: list[StatementTarget], repeat: int) -> tuple[dict, dict]:
    """Each code `repeat` times on each target, alternating targets; warm-ups first.

    Returns POST-to-available seconds and the driver's own execution times (ms)."""
    samples = {t.name: {code: [] for code in STATEMENTS} for t in targets}
    executed = {t.name: {code: [] for code in STATEMENTS} for t in targets}
    for index in range(WARMUPS + repeat):
        order = targets if index % 2 == 0 else targets[::-1]
        for code, expected in STATEMENTS.items():
            for target in order:
                seconds, text = target.run(code)
                check_output(target.name, code, text, expected)
                if index >= WARMUPS:
                    samples[target.name][code].append(seconds)
                    executed[target.name][code].append(target.last_executed_ms)
        if index == WARMUPS - 1:
            for target in targets:  # poll figures only from the measured statements
                target.gets.clear()
                target.intervals.clear()
    return samples, executed


def request_round_trips(targets: list[StatementTarget], count: int) -> dict:
    """One GET of a finished statement: what each request costs on each path (ms)."""
    trips: dict[str, list[float]] = {t.name: [] for t in targets}
    for index in range(count):
        for target in targets if index % 2 == 0 else targets[::-1]:
            began = time.perf_counter()
            response = target.client.get(target.last_url, timeout=60)
            trips[target.name].append(1000 * (time.perf_counter() - began))
            if response.status_code != 200:
                raise BenchmarkError(f"{target.name}: GET statement gave {response.status_code}")
    return trips


def driver_processes(cluster_id: str, session_id: str) -> list[int]:
    drivers = pids_with(DRIVER_MARK, f"/{cluster_id}/sessions/{session_id}/")
    if len(drivers) != 1:
        raise BenchmarkError(f"expected one driver for session {session_id}, found {drivers}")
    return drivers + descendants(drivers[0])


def executor_processes(cluster: dict) -> list[int]:
    return [p for p in descendants(cluster["pids"]["worker"]) if is_running(p)]


def measure_livy(lab: Labdeck, cluster: dict, statements: int, poll: float) -> dict:
    """A Livy session: its start, its first %%sql, memory, then `statements` of each."""
    began = time.monotonic()
    session_id, idle_seconds = livy_session(lab, cluster)
    gateway = gateway_target(lab, cluster, session_id, poll)
    first_sql, text = gateway.run(SPARKMAGIC_SQL)
    first_result = time.monotonic() - began
    check_output("gateway", "%%sql SELECT 1 AS a", text, SPARKMAGIC_SQL_OUTPUT)
    result = {
        "session_seconds": idle_seconds,
        "first_sql_seconds": first_sql,
        "first_result_seconds": first_result,
        # With the executor up, before the small statements (the same point as the plain one).
        "driver_memory": memory(driver_processes(cluster["id"], session_id)),
        "executor_memory": memory(executor_processes(cluster)),
    }
    if statements:
        direct = direct_target(lab, cluster, session_id, poll)
        targets = [gateway] + ([direct] if direct else [])
        result["samples"], result["executed_ms"] = measure_statements(targets, statements)
        result["request_ms"] = request_round_trips(targets, statements)
        result["polling"] = {
            t.name: {
                "get_median_ms": 1000 * median(t.gets),
                "interval_median_ms": 1000 * median(t.intervals) if t.intervals else None,
            }
            for t in targets
        }
    began = time.monotonic()
    base = f"clusters/{cluster['id']}/livy/sessions/{session_id}"
    response = lab.api("DELETE", base)
    result["delete_seconds"] = time.monotonic() - began
    if response.status_code not in (200, 204):
        raise BenchmarkError(f"deleting session {session_id} gave {response.status_code}")
    left = pids_with(DRIVER_MARK, f"/{cluster['id']}/sessions/{session_id}/")
    if left:
        raise BenchmarkError(f"session {session_id} was deleted but its driver runs: {left}")
    wait_no_applications(cluster)
    return result


# --- the baseline side ------------------------------------------------------------------


def spark_env(directory: Path) -> dict:
    return dict(
        os.environ,
        SPARK_HOME=str(spark_class().parent.parent),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_LOG_DIR=str(directory / "logs"),
        SPARK_WORKER_DIR=str(directory / "work"),
        SPARK_NO_DAEMONIZE="1",
    )


def start_baseline_cluster(root: Path, name: str, started: list[int]) -> dict:
    directory = root / "baseline" / name
    (directory / "logs").mkdir(parents=True)
    (directory / "work").mkdir()
    properties = directory / "spark-defaults.conf"
    properties.write_text("spark.master.rest.enabled false\nspark.ui.killEnabled false\n")
    port, webui_port = free_port(), free_port()
    env = spark_env(directory)
    ours: list[int] = []  # this cluster's processes

    def spawn(role: str, args: list[str]) -> int:
        with (directory / "logs" / f"{role}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(spark_class()), *args],
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=restore_default_signals,
            )
        started.append(process.pid)  # known to main before anything can fail
        ours.append(process.pid)
        return process.pid

    def checked(condition):
        def check():
            dead = [pid for pid in ours if not is_running(pid)]
            if dead:
                logs = "\n".join(
                    f"{log.name}: {log.read_text(errors='replace')[-1500:]}"
                    for log in sorted((directory / "logs").glob("*.log"))
                )
                raise BenchmarkError(f"baseline Spark process(es) {dead} exited:\n{logs}")
            return condition()

        return check

    began = time.monotonic()
    master = spawn(
        "master",
        [
            MASTER_CLASS,
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(webui_port)),
            *("--properties-file", str(properties)),
        ],
    )
    wait_for(
        checked(lambda: (master_status(webui_port) or {}).get("status") == "ALIVE"),
        CLUSTER_TIMEOUT,
        "the baseline master",
    )
    worker = spawn(
        "worker",
        [
            WORKER_CLASS,
            *("--host", "127.0.0.1", "--webui-port", str(free_port())),
            *("--cores", "1", "--memory", "1024m", "--work-dir", str(directory / "work")),
            *("--properties-file", str(properties)),
            f"spark://127.0.0.1:{port}",
        ],
    )
    wait_for(
        checked(lambda: alive_workers(master_status(webui_port)) >= 1),
        CLUSTER_TIMEOUT,
        "the baseline worker",
    )
    seconds = time.monotonic() - began
    return {
        "seconds": seconds,
        "pids": {"master": master, "worker": worker},
        "memory": memory([master, worker]),
    }


def stop_baseline_cluster(cluster: dict) -> float:
    began = time.monotonic()
    stop_group([cluster["pids"]["worker"], cluster["pids"]["master"]])  # workers first
    return time.monotonic() - began


def measure_plain_session(
    root: Path, cluster: dict, statements: int, number: int, started: list
) -> dict:
    """A classic PySpark driver in a fresh subprocess, on the labdeck cluster's master."""
    directory = root / "baseline" / f"session-{number}"
    directory.mkdir(parents=True)
    script = directory / "plain_session.py"
    script.write_text(BASELINE_SESSION)
    config = {
        "master": cluster["master_url"],
        "app_name": f"baseline-session-{number}",
        # What labdeck gives its drivers, so both get the same executor.
        "conf": {
            "spark.api.mode": "classic",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.cores.max": "1",
            "spark.executor.memory": "1024m",
            "spark.executor.cores": "1",
            "spark.ui.showConsoleProgress": "false",
        },
        "first_sql": SPARKMAGIC_SQL,
        "result_prefix": RESULT_PREFIX,
        "statements": list(STATEMENTS),
        "warmups": WARMUPS if statements else 0,
        "repeat": statements,
        "runs_per_round": 2,  # the labdeck session runs each on the gateway and the driver
        "pause": PLAIN_PAUSE_SECONDS,
    }
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable)
    if cluster.get("secret"):  # as labdeck's drivers join it: the secret in the environment
        config["conf"]["spark.authenticate"] = "true"
        env["_SPARK_AUTH_SECRET"] = cluster["secret"]
    for name in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "SPARK_API_MODE"):
        env.pop(name, None)
    log = (directory / "driver.log").open("wb")
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(script), json.dumps(config)],
        cwd=directory,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        start_new_session=True,
        preexec_fn=restore_default_signals,
    )
    started.append(process.pid)
    # A session that hangs is ended, which ends the loop below with no report.
    watchdog = threading.Timer(
        SESSION_TIMEOUT + STATEMENT_TIMEOUT,
        lambda: end_processes([process.pid, *descendants(process.pid)]),
    )
    watchdog.start()
    try:
        report = read_report(process, directory)
        check_output(
            "plain", "%%sql SELECT 1 AS a", report["first_sql_output"], SPARKMAGIC_SQL_OUTPUT
        )
        result = {
            "session_seconds": report["session_ready"] - began,
            "import_seconds": report["imported"] - began,
            "first_sql_seconds": report["first_sql_seconds"],
            "first_result_seconds": report["first_result"] - began,
            "driver_memory": memory([process.pid, *descendants(process.pid)]),
            "executor_memory": memory(executor_processes(cluster)),
        }
        process.stdin.write("go\n")
        process.stdin.flush()
        report = read_report(process, directory)
        for code, expected in STATEMENTS.items():
            check_output("plain", code, report["check"][code], expected)
        if statements:
            result["samples"] = {"in-process": report["samples"]}
        stopped = time.monotonic()
        process.stdin.write("stop\n")
        process.stdin.flush()
        process.wait(STOP_TIMEOUT)
        result["delete_seconds"] = time.monotonic() - stopped
    finally:
        watchdog.cancel()
        log.close()
        if process.poll() is None:
            end_processes([process.pid, *descendants(process.pid)])
    if process.returncode != 0:
        raise BenchmarkError(f"the plain PySpark session exited with {process.returncode}")
    wait_no_applications(cluster)
    return result


def read_report(process: subprocess.Popen, directory: Path) -> dict:
    for line in process.stdout:  # the JVM may print on stdout too
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    tail = (directory / "driver.log").read_text(errors="replace")[-2000:]
    raise BenchmarkError(f"the plain PySpark session failed:\n{tail}")


# --- one repetition ---------------------------------------------------------------------


def run_repetition(lab: Labdeck, root: Path, args, number: int, started: list) -> dict:
    """Both clusters (taking turns going first), both sessions on the labdeck cluster."""
    result = {}
    order = KINDS if number % 2 == 0 else KINDS[::-1]
    for kind in order:
        if kind == "labdeck":
            cluster = start_labdeck_cluster(lab, f"bench-{number}")
            try:
                sessions = {}
                # The small statements in the last repetition's sessions only (time).
                statements = args.statements if number == args.repeat - 1 else 0
                for session_kind in order:  # the same turns as the clusters
                    if session_kind == "labdeck":
                        poll = args.poll_ms / 1000
                        sessions["labdeck"] = measure_livy(lab, cluster, statements, poll)
                    else:
                        sessions["baseline"] = measure_plain_session(
                            root, cluster, statements, number, started
                        )
            finally:
                stop_seconds = delete_labdeck_cluster(lab, cluster)
            result["labdeck"] = {"cluster": cluster, "stop_seconds": stop_seconds, **sessions}
        else:
            cluster = start_baseline_cluster(root, f"cluster-{number}", started)
            # Nothing runs on it: its start, memory and stop are what is compared.
            stop_seconds = stop_baseline_cluster(cluster)
            result["baseline"] = {"cluster": cluster, "stop_seconds": stop_seconds}
        print(
            f"  repetition {number + 1} {kind:8} cluster "
            f"{result[kind]['cluster']['seconds']:5.2f} s",
            flush=True,
        )
    sessions = result["labdeck"]
    print(
        f"  repetition {number + 1} sessions: labdeck idle "
        f"{sessions['labdeck']['session_seconds']:5.2f} s, plain getOrCreate "
        f"{sessions['baseline']['session_seconds']:5.2f} s; first %%sql labdeck "
        f"{sessions['labdeck']['first_sql_seconds']:5.2f} s, plain "
        f"{sessions['baseline']['first_sql_seconds']:5.2f} s",
        flush=True,
    )
    return result


# --- summary and report -----------------------------------------------------------------


def spread(values: list[float]) -> dict:
    return {"median": median(values), "min": min(values), "max": max(values)}


def memory_median(entries: list[dict]) -> dict:
    return {
        "pss_mib": median([e["pss_mib"] for e in entries]),
        "rss_mib": median([e["rss_mib"] for e in entries]),
        "processes": max(e["processes"] for e in entries),
    }


def summarize(reps: list[dict]) -> dict:
    lab = [r["labdeck"] for r in reps]
    base = [r["baseline"] for r in reps]
    livy = [r["labdeck"]["labdeck"] for r in reps]
    plain = [r["labdeck"]["baseline"] for r in reps]
    summary = {
        "cluster_seconds": {
            "labdeck": spread([r["cluster"]["seconds"] for r in lab]),
            "baseline": spread([r["cluster"]["seconds"] for r in base]),
        },
        "cluster_stop_seconds": {
            "labdeck": spread([r["stop_seconds"] for r in lab]),
            "baseline": spread([r["stop_seconds"] for r in base]),
        },
    }
    for key in ("session_seconds", "first_sql_seconds", "first_result_seconds", "delete_seconds"):
        summary[key] = {
            "labdeck": spread([s[key] for s in livy]),
            "baseline": spread([s[key] for s in plain]),
        }
    pooled: dict[str, dict[str, list[float]]] = {}
    for session in livy + plain:
        for target, by_code in session.get("samples", {}).items():
            for code, values in by_code.items():
                pooled.setdefault(target, {}).setdefault(code, []).extend(values)
    statements = {}
    for code in STATEMENTS:
        medians = {target: median(by_code[code]) for target, by_code in pooled.items()}
        statements[code] = {
            "median_ms": {t: 1000 * v for t, v in medians.items()},
            "p90_ms": {
                t: 1000 * statistics.quantiles(by_code[code], n=10)[-1]
                for t, by_code in pooled.items()
                if len(by_code[code]) >= 2
            },
            "samples": len(pooled["gateway"][code]),
            "overhead_ms": 1000 * (medians["gateway"] - medians["in-process"]),
            "ratio_gateway_in_process": ratio(medians["gateway"], medians["in-process"]),
            "overhead_driver_ms": (
                1000 * (medians["driver"] - medians["in-process"]) if "driver" in medians else None
            ),
            # Livy's completed - started, as the driver reports them (whole ms).
            "executed_in_driver_ms": {
                target: median(by_code[code]) for target, by_code in livy[-1]["executed_ms"].items()
            },
        }
    summary["statements"] = statements
    # The small statements ran in the last repetition's sessions.
    summary["polling"] = livy[-1]["polling"]
    summary["request_ms"] = {
        target: {"median": median(trips), "p90": statistics.quantiles(trips, n=10)[-1]}
        for target, trips in livy[-1]["request_ms"].items()
    }
    summary["memory"] = {
        "cluster": {
            "labdeck": memory_median([r["cluster"]["memory"] for r in lab]),
            "baseline": memory_median([r["cluster"]["memory"] for r in base]),
        },
        "session_driver": {
            "labdeck": memory_median([s["driver_memory"] for s in livy]),
            "baseline": memory_median([s["driver_memory"] for s in plain]),
        },
        "session_executor": {
            "labdeck": memory_median([s["executor_memory"] for s in livy]),
            "baseline": memory_median([s["executor_memory"] for s in plain]),
        },
    }
    return summary


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_ratio(value: float | None) -> str:
    return fmt(value, 0 if value is not None and value >= 100 else 2)


def print_report(summary: dict, args, loads: dict) -> None:
    header = (
        f"{'figure':44} {'labdeck':>10} {'baseline':>10} {'ratio':>6}  range (labdeck | baseline)"
    )
    print()
    print(header)
    print("-" * len(header))
    rows = [
        ("cluster create -> ready (s)", "cluster_seconds"),
        ("cluster delete -> stopped (s)", "cluster_stop_seconds"),
        ("session create -> ready (s)", "session_seconds"),
        ("first %%sql statement (s)", "first_sql_seconds"),
        ("session create -> first %%sql result (s)", "first_result_seconds"),
        ("session delete -> stopped (s)", "delete_seconds"),
    ]
    for label, key in rows:
        lab, base = summary[key]["labdeck"], summary[key]["baseline"]
        print(
            f"{label:44} {fmt(lab['median']):>10} {fmt(base['median']):>10} "
            f"{fmt(ratio(lab['median'], base['median'])):>6}  "
            f"{fmt(lab['min'])}-{fmt(lab['max'])} | {fmt(base['min'])}-{fmt(base['max'])}"
        )
    print()
    header = (
        f"{'statement, POST -> available (ms, median)':44} {'gateway':>10} {'driver':>10} "
        f"{'in-proc':>10} {'overhead':>9} {'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for code, s in summary["statements"].items():
        m = s["median_ms"]
        print(
            f"{code + ' (n=' + str(s['samples']) + ')':44} {fmt(m['gateway']):>10} "
            f"{fmt(m.get('driver')):>10} {fmt(m['in-process'], 3):>10} "
            f"{fmt(s['overhead_ms']):>9} {fmt_ratio(s['ratio_gateway_in_process']):>8}"
        )
    executed = {code: s["executed_in_driver_ms"] for code, s in summary["statements"].items()}
    print(
        "  of which the driver ran the code (Livy completed - started, whole ms, median): "
        + "; ".join(
            f"{code}: " + ", ".join(f"{t} {fmt(v, 0)}" for t, v in by_target.items())
            for code, by_target in executed.items()
        )
    )
    for target, p in summary["polling"].items():
        print(
            f"polling {target}: GET every {args.poll_ms:g} ms after the last answer; "
            f"GET round trip {fmt(p['get_median_ms'])} ms, interval between GETs "
            f"{fmt(p['interval_median_ms'])} ms (median)"
        )
    trips = summary["request_ms"]
    print(
        "one GET of a finished statement (ms, median / p90): "
        + ", ".join(f"{t} {fmt(v['median'])} / {fmt(v['p90'])}" for t, v in trips.items())
    )
    print()
    header = (
        f"{'memory (MiB, median)':44} {'labdeck PSS':>11} {'RSS':>7} "
        f"{'baseline PSS':>12} {'RSS':>7}"
    )
    print(header)
    print("-" * len(header))
    labels = {
        "cluster": "cluster at ready (master + worker)",
        "session_driver": "session driver (python + java)",
        "session_executor": "executor (JVM + its Python workers)",
    }
    for key, label in labels.items():
        lab, base = summary["memory"][key]["labdeck"], summary["memory"][key]["baseline"]
        print(
            f"{label:44} {lab['pss_mib']:11.0f} {lab['rss_mib']:7.0f} "
            f"{base['pss_mib']:12.0f} {base['rss_mib']:7.0f}"
        )
    print()
    print(f"load average (1 min) at start {loads['start']:.2f}, at end {loads['end']:.2f}")
    overheads = {code: s["overhead_ms"] for code, s in summary["statements"].items()}
    worst = max(overheads, key=overheads.get)
    print(f"first %%sql result: {summary['first_sql_seconds']['labdeck']['median']:.2f} s")
    print(
        f"cluster RUNNING: {summary['cluster_seconds']['labdeck']['median']:.2f} s  target <= 10 s"
    )
    print(f"session idle: {summary['session_seconds']['labdeck']['median']:.2f} s  target <= 15 s")
    for code, overhead in overheads.items():
        ratio_text = fmt_ratio(summary["statements"][code]["ratio_gateway_in_process"])
        print(f"  gateway overhead, {code}: {overhead:.1f} ms (ratio {ratio_text})")
    print(
        f"gateway overhead per statement: {overheads[worst]:.1f} ms  target <= 20 ms"
        f"  (the larger of the two statements: {worst})"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="clusters and sessions of each kind")
    parser.add_argument(
        "--statements",
        type=int,
        default=30,
        help="measured runs of each small statement per session",
    )
    parser.add_argument("--poll-ms", type=float, default=10, help="statement polling sleep")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp dir (logs) instead of removing it"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.statements < 2 or args.poll_ms < 0:
        parser.error("--repeat must be >= 1, --statements >= 2, --poll-ms >= 0")
    return args


def run(args: argparse.Namespace, root: Path, hubs: list[Hub], started: list[int]):
    print("starting labdeck hub...", flush=True)
    hubs.append(launch_labdeck_hub(root))
    hub = hubs[0]
    wait_until_hub_ready(hub)
    hub.use_token()
    lab = Labdeck(hub)
    lab.client.headers["Authorization"] = f"token {user_token(hub)}"
    loads = {"start": os.getloadavg()[0]}
    reps = [run_repetition(lab, root, args, number, started) for number in range(args.repeat)]
    loads["end"] = os.getloadavg()[0]
    return reps, loads


def write_json(path: Path, args, reps: list[dict], summary: dict, loads: dict) -> None:
    report = {
        "benchmark": "spark",
        "repeat": args.repeat,
        "statements": args.statements,
        "poll_ms": args.poll_ms,
        "cluster_spec": CLUSTER_SPEC,
        "cpus": os.cpu_count(),
        "load_average_1min": loads,
        "summary": summary,
        "repetitions": reps,
    }
    path.write_text(json.dumps(report, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-spark-bench-")
    hubs: list[Hub] = []
    started: list[int] = []  # baseline processes, by pid
    began = time.monotonic()
    try:
        reps, loads = run(args, root, hubs, started)
    except (BenchmarkError, requests.RequestException, OSError, ValueError, KeyError) as e:
        report_failure("spark", e, hubs)
        return 1
    finally:
        # Baseline clusters and sessions, each the leader of its own process group;
        # only pids still working inside our temp dir (a pid may have been reused).
        ours = set(pids_running_under(root))
        stop_group([pid for pid in started if pid in ours], timeout=10)
        clean_up(root, hubs, keep=args.keep)

    summary = summarize(reps)
    print_report(summary, args, loads)
    print(f"(whole run {time.monotonic() - began:.0f} s)")
    if args.json:
        write_json(args.json, args, reps, summary, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
