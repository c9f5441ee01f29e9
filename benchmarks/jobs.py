"""Jobs benchmark: training jobs through labdeck against a bare subprocess, same machine.

One `labdeck up` hub in a temp dir (as root: the job runs as the user's own account, in
a cgroup), one user. Each of --repeat repetitions measures, taking turns going first:

  start     labdeck   POST jobs, then GET jobs/<id> every 10 ms until RUNNING and the
                      script's first line is in its log (GET jobs/<id>/logs)
            baseline  subprocess.Popen of the same script with the same Python, until
                      its first line is read from its stdout
  metric    labdeck   a running job prints `loss=<n>` (matched by a metric definition)
                      when told to (a file appears in its folder); time until
                      GET jobs/<id>/metrics shows it, polled every 10 ms
            baseline  the same script under Popen: time until its stdout line is read
  cpu       labdeck   a CPU-bound script (a pure-Python loop, --work iterations) as a
                      job: its own measured run time (it prints it), so the runner's
                      sampling every 500 ms and the cgroup are what is compared
            baseline  the same script under Popen

Then, once, the service's memory: the resident size (VmRSS in /proc/<pid>/status, the
median of 10 readings 0.2 s apart) of the hub's labdeck service process idle, after the
timed jobs above have run and ended (the baseline), and with --jobs jobs that sleep
running at once (the user's `jobs` quota allows them); its ratio to the baseline and
the increment per job. The jobs' own runners (processes of their own) are reported
beside it, not in it.

Run it from the repository root, as root:

    .venv/bin/python benchmarks/jobs.py [--repeat 5] [--work 20000000] [--jobs 20] [--json PATH]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
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
    report_failure,
    wait_until_hub_ready,
)
from labdeck.quota.policy import QuotaPolicy
from spark import Labdeck, user_token, wait_for

POLL = 0.01
TIMEOUT = 60
MIB = 2**20
MEMORY_READINGS = 10
MEMORY_READING_SECONDS = 0.2
# waits for a file named "go" in its working directory, then prints a metric and ends
METRIC_SCRIPT = """
import os, time
print("started", flush=True)
while not os.path.exists("go"):
    time.sleep(0.002)
print("loss=0.125", flush=True)
"""
# says it runs, then sleeps until a file named "go" appears in its working directory
SLEEP_SCRIPT = """
import os, time
print("sleeping", flush=True)
while not os.path.exists("go"):
    time.sleep(0.2)
"""
CPU_SCRIPT = """
import sys, time
began = time.perf_counter()
total = 0
for i in range(int(sys.argv[1])):
    total += i * i
print(f"seconds={time.perf_counter() - began:.6f}", flush=True)
"""


def wait(condition, what: str):
    return wait_for(condition, TIMEOUT, what, poll=POLL)


def home_of(lab: Labdeck, user: str) -> Path:
    return lab.state_dir / "homes" / user


def write_script(lab: Labdeck, user: str, name: str, text: str) -> Path:
    """A file of the user's own (the benchmark runs as root: give it to their account)."""
    home = home_of(lab, user)
    path = home / name
    path.write_text(text)
    owner = home.stat()
    os.chown(path, owner.st_uid, owner.st_gid)
    return path


def submit(lab: Labdeck, body: dict) -> str:
    response = lab.api("POST", "jobs", json=body)
    if response.status_code != 201:
        raise BenchmarkError(f"submitting a job gave {response.status_code}: {response.text}")
    return response.json()["id"]


def job_state(lab: Labdeck, job_id: str) -> dict:
    return lab.api("GET", f"jobs/{job_id}").json()


def log_text(lab: Labdeck, job_id: str) -> str:
    return lab.api("GET", f"jobs/{job_id}/logs").json()["text"]


def finish(lab: Labdeck, job_id: str) -> dict:
    def ended():
        job = job_state(lab, job_id)
        return job if job["state"] in ("COMPLETED", "FAILED", "STOPPED") else None

    job = wait(ended, f"job {job_id} to end")
    if job["state"] != "COMPLETED":
        raise BenchmarkError(f"job {job_id} ended {job['state']}: {job['state_reason']}")
    return job


def labdeck_start_and_metric(lab: Labdeck, user: str, rep: int) -> tuple[float, float]:
    folder = f"metric-{rep}"
    (home_of(lab, user) / folder).mkdir()
    os.chown(home_of(lab, user) / folder, *owner_ids(lab, user))
    write_script(lab, user, f"{folder}/train.py", METRIC_SCRIPT)
    began = time.monotonic()
    job_id = submit(
        lab,
        {
            "name": folder,
            "script": f"{folder}/train.py",
            "working_dir": folder,
            "metric_definitions": [{"name": "loss", "regex": r"loss=([0-9.]+)"}],
        },
    )
    wait(
        lambda: job_state(lab, job_id)["state"] == "RUNNING" and "started" in log_text(lab, job_id),
        "the job's first line",
    )
    started = time.monotonic() - began
    go = home_of(lab, user) / folder / "go"
    go.touch()
    told = time.monotonic()

    def shown() -> bool:
        points = lab.api("GET", f"jobs/{job_id}/metrics").json()["points"]
        return any("loss" in point["values"] for point in points)

    wait(shown, "the metric in the API")
    metric = time.monotonic() - told
    finish(lab, job_id)
    return started, metric


def owner_ids(lab: Labdeck, user: str) -> tuple[int, int]:
    info = home_of(lab, user).stat()
    return info.st_uid, info.st_gid


def popen_start_and_metric(root: Path, rep: int) -> tuple[float, float]:
    folder = root / "baseline" / f"metric-{rep}"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(METRIC_SCRIPT)
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "train.py"], cwd=folder, stdout=subprocess.PIPE, text=True
    )
    if process.stdout.readline().strip() != "started":
        raise BenchmarkError("the baseline script did not start")
    started = time.monotonic() - began
    (folder / "go").touch()
    told = time.monotonic()
    if not process.stdout.readline().startswith("loss="):
        raise BenchmarkError("the baseline script printed no metric")
    metric = time.monotonic() - told
    process.wait(TIMEOUT)
    return started, metric


def labdeck_cpu(lab: Labdeck, user: str, work: int, rep: int) -> float:
    write_script(lab, user, "cpu.py", CPU_SCRIPT)
    job_id = submit(lab, {"name": f"cpu-{rep}", "script": "cpu.py", "args": [str(work)]})
    finish(lab, job_id)
    return seconds_printed(log_text(lab, job_id))


def popen_cpu(root: Path, work: int) -> float:
    script = root / "baseline" / "cpu.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(CPU_SCRIPT)
    output = subprocess.run(
        [sys.executable, str(script), str(work)], capture_output=True, text=True, check=True
    )
    return seconds_printed(output.stdout)


def seconds_printed(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("seconds="):
            return float(line.removeprefix("seconds="))
    raise BenchmarkError(f"no run time in the output: {text[-200:]!r}")


# --- the service's memory -------------------------------------------------------------


def jobs_config(jobs: int) -> str:
    """The hub's default quota, with room for `jobs` jobs at once."""
    quota = QuotaPolicy().default_quota
    quota["jobs"] = {**quota.get("jobs", {}), "concurrent": jobs}
    return f"c.QuotaPolicy.default_quota = {quota!r}\n"


def process_table() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) of every process we can read."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                table[int(entry.name)] = (parent, (entry / "cmdline").read_bytes())
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return table


def descendants(root: int, table: dict[int, tuple[int, bytes]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], list(children.get(root, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def started_by(root: int, command: bytes) -> list[int]:
    """root's descendants whose command line ends with `command` (NUL-separated)."""
    table = process_table()
    return [pid for pid in descendants(root, table) if table[pid][1].endswith(command)]


def service_pid(hub: Hub) -> int:
    """This hub's labdeck service (`python -m labdeck.service`, a managed service)."""
    found = started_by(hub.process.pid, b"\0-m\0labdeck.service\0")
    if len(found) != 1:
        raise BenchmarkError(f"expected one labdeck service process of the hub, found {found}")
    return found[0]


def vm_rss(pid: int) -> int:
    """Resident bytes of pid (VmRSS)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError as e:
        raise BenchmarkError(f"process {pid} is gone: {e}") from e
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise BenchmarkError(f"process {pid} has no VmRSS")


def rss_median(pid: int) -> float:
    readings = []
    for _ in range(MEMORY_READINGS):
        readings.append(vm_rss(pid))
        time.sleep(MEMORY_READING_SECONDS)
    return statistics.median(readings)


def service_memory(lab: Labdeck, user: str, jobs: int, fresh: float) -> dict:
    """The service's RSS idle, then with `jobs` sleeping jobs running at once."""
    pid = service_pid(lab.hub)
    idle = rss_median(pid)
    folder = home_of(lab, user) / "sleep"
    folder.mkdir()
    os.chown(folder, *owner_ids(lab, user))
    write_script(lab, user, "sleep/sleep.py", SLEEP_SCRIPT)
    ids = [
        submit(lab, {"name": f"sleep-{n}", "script": "sleep/sleep.py", "working_dir": "sleep"})
        for n in range(jobs)
    ]

    def all_running() -> bool:
        listed = {j["id"]: j for j in lab.api("GET", "jobs").json() if j["id"] in ids}
        ended = [j for j in listed.values() if j["state"] in ("COMPLETED", "FAILED", "STOPPED")]
        if ended:
            raise BenchmarkError(f"a sleeping job ended: {ended[0]['state_reason']}")
        return len(listed) == jobs and all(j["state"] == "RUNNING" for j in listed.values())

    wait(all_running, f"{jobs} jobs to be RUNNING")
    wait(lambda: all("sleeping" in log_text(lab, i) for i in ids), "every job's first line")
    loaded = rss_median(pid)
    runners = [vm_rss(p) for p in started_by(pid, b"\0-m\0labdeck.jobs.runner\0")]
    if len(runners) != jobs:
        raise BenchmarkError(f"expected {jobs} job runners under the service, found {runners}")
    (folder / "go").touch()
    for job_id in ids:
        finish(lab, job_id)
    return {
        "jobs": jobs,
        "service_pid": pid,
        "fresh_bytes": fresh,
        "idle_bytes": idle,
        "loaded_bytes": loaded,
        "ratio": loaded / idle,
        "per_job_bytes": (loaded - idle) / jobs,
        "runner_median_bytes": statistics.median(runners),
    }


def print_memory(memory: dict) -> None:
    jobs = memory["jobs"]
    print(f"service memory (VmRSS, MiB)  idle {memory['idle_bytes'] / MIB:.1f}", end="")
    print(f"  with {jobs} jobs {memory['loaded_bytes'] / MIB:.1f}  ratio {memory['ratio']:.2f}")
    print(
        f"  per job +{memory['per_job_bytes'] / MIB:.2f} MiB; fresh service (before any job) "
        f"{memory['fresh_bytes'] / MIB:.1f} MiB; each job's runner "
        f"{memory['runner_median_bytes'] / MIB:.1f} MiB (a process of its own)"
    )


def run(args: argparse.Namespace, root: Path, hubs: list[Hub]) -> dict:
    print("starting labdeck hub...", flush=True)
    hubs.append(launch_labdeck_hub(root, jobs_config(args.jobs)))
    wait_until_hub_ready(hubs[0])
    hubs[0].use_token()
    lab = Labdeck(hubs[0])
    lab.client.headers["Authorization"] = f"token {user_token(hubs[0])}"
    user = "sparkbench"
    # refused (no such script), and the user's account and home are made
    if lab.api("POST", "jobs", json={"script": "none.py"}).status_code != 400:
        raise BenchmarkError("the service did not check a missing script")
    fresh = rss_median(service_pid(hubs[0]))
    figures = {k: {"labdeck": [], "baseline": []} for k in ("start", "metric", "cpu")}
    for rep in range(args.repeat):
        sides = ["labdeck", "baseline"] if rep % 2 == 0 else ["baseline", "labdeck"]
        for side in sides:
            if side == "labdeck":
                start, metric = labdeck_start_and_metric(lab, user, rep)
                cpu = labdeck_cpu(lab, user, args.work, rep)
            else:
                start, metric = popen_start_and_metric(root, rep)
                cpu = popen_cpu(root, args.work)
            for key, value in (("start", start), ("metric", metric), ("cpu", cpu)):
                figures[key][side].append(value)
            print(
                f"  #{rep + 1} {side:8} start {start:6.3f} s  metric {metric:6.3f} s  "
                f"cpu {cpu:6.3f} s",
                flush=True,
            )
    scenarios = {key: compare(values, "labdeck", "baseline") for key, values in figures.items()}
    print(f"service memory with {args.jobs} sleeping jobs...", flush=True)
    return {"scenarios": scenarios, "memory": service_memory(lab, user, args.jobs, fresh)}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions")
    parser.add_argument("--work", type=int, default=20_000_000, help="CPU loop iterations")
    parser.add_argument("--jobs", type=int, default=20, help="jobs at once for the memory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.work < 1 or args.jobs < 1:
        parser.error("--repeat, --work and --jobs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-jobs-bench-")
    hubs: list[Hub] = []
    try:
        figures = run(args, root, hubs)
    except (BenchmarkError, requests.RequestException, OSError, KeyError, ValueError) as e:
        report_failure("jobs", e, hubs)
        return 1
    finally:
        clean_up(root, hubs)
    print_comparison(figures["scenarios"], "labdeck", "baseline", 3)
    print_memory(figures["memory"])
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "jobs", **figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
