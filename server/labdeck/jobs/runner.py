"""Runs one training job, as its owner's account, in the job's cgroup.

Started by the job backend through the supervisor (`python -m labdeck.jobs.runner`,
its settings in $LABDECK_JOB). It makes the job's folder (`~/labdeck/jobs/<id>`, 0700),
runs the script or command (a notebook with papermill, its parameters injected and its
executed copy saved as `executed.ipynb`) with its output in `output.log`, and writes to
`metrics.jsonl`, one JSON point a line: values the metric definitions' regexes find in
the output, what the script reports with `labdeck.metrics.log`, and every 500 ms the
CPU use and memory of the job's processes, with the utilisation and memory of its GPUs
(its CUDA_VISIBLE_DEVICES) when NVML is there (jobs/gpu_metrics.py). When the job ends
it writes `exit.json` (exit code or signal, and the notebook cell that raised) and exits
with the job's code.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from ..metrics import METRICS_FILE_ENV
from ..processes import die_with_parent
from .gpu_metrics import VISIBLE_ENV, GpuMetrics, visible_devices

SPEC_ENV = "LABDECK_JOB"
SAMPLE_SECONDS = 0.5
SAMPLER_JOIN_SECONDS = 5
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class Points:
    """metrics.jsonl: whole lines appended, from the runner's threads and the script."""

    def __init__(self, path: Path):
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def add(self, source: str, values: dict, step=None) -> None:
        point = {"t": time.time(), "source": source, "step": step, "values": values}
        os.write(self.fd, (json.dumps(point) + "\n").encode())


def parse_metrics(line: str, definitions: list[tuple[str, re.Pattern]]) -> dict:
    """Values the definitions find in one line of output (group 1, or the whole match)."""
    values = {}
    for name, pattern in definitions:
        found = pattern.search(line)
        if found is None:
            continue
        try:
            values[name] = float(found.group(1) if pattern.groups else found.group(0))
        except ValueError:
            continue
    return values


def _processes() -> dict[int, list[str]]:
    """pid -> its /proc stat fields after the command name."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            table[int(entry)] = text.rsplit(")", 1)[1].split()
    return table


def tree_usage(root: int) -> tuple[int, int]:
    """(CPU clock ticks used, resident bytes) of root and its descendants (the ticks of
    children they reaped included)."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, fields in table.items():
        children.setdefault(int(fields[1]), []).append(pid)
    ticks = rss = 0
    todo = [root] if root in table else []
    while todo:
        pid = todo.pop()
        fields = table[pid]
        ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        rss += int(fields[21]) * PAGE
        todo.extend(children.get(pid, ()))
    return ticks, rss


def sample(points: Points, root: int, done: threading.Event) -> None:
    # NVML starts here, not before the job: a slow driver does not delay it
    with GpuMetrics.open(visible_devices(os.environ.get(VISIBLE_ENV))) as gpus:
        last_ticks, last_time = tree_usage(root)[0], time.monotonic()
        while not done.wait(SAMPLE_SECONDS):
            ticks, rss = tree_usage(root)
            now = time.monotonic()
            cpu = 100 * (ticks - last_ticks) / TICKS / max(now - last_time, 1e-6)
            last_ticks, last_time = ticks, now
            if rss:
                values = {"cpu_percent": round(max(cpu, 0.0), 1), "rss_bytes": rss}
                points.add("system", {**values, **gpus.read()})


def run(spec: dict) -> int:
    os.umask(0o077)
    folder = Path(spec["folder"])
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    output = open(folder / "output.log", "ab", buffering=0)
    points = Points(folder / "metrics.jsonl")
    definitions = [(d["name"], re.compile(d["regex"])) for d in spec["metric_definitions"]]
    env = {**os.environ, **spec["env"], METRICS_FILE_ENV: str(points.path)}
    env["PYTHONUNBUFFERED"] = "1"  # output (and so regex metrics) as it is printed
    # a stop signals the whole group: the job gets it too, and the runner records its end
    signal.signal(signal.SIGTERM, lambda *_: None)
    argv = spec["argv"]
    if spec.get("notebook"):
        argv = notebook_argv(spec, folder)
    try:
        os.chdir(spec["cwd"])
        child = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            # a runner that is killed (by its memory limit, say) takes the job with it
            preexec_fn=lambda: die_with_parent(signal.SIGKILL),
        )
    except OSError as e:
        output.write(f"labdeck: the job could not start: {e}\n".encode())
        return record_exit(folder, 127, None)
    done = threading.Event()
    sampler = threading.Thread(target=sample, args=(points, child.pid, done), daemon=True)
    sampler.start()
    for line in child.stdout:
        output.write(line)
        if definitions:
            values = parse_metrics(line.decode(errors="replace"), definitions)
            if values:
                points.add("log", values)
    returncode = child.wait()
    done.set()
    sampler.join(SAMPLER_JOIN_SECONDS)  # NVML shut down before the runner exits
    if returncode < 0:
        return record_exit(folder, None, -returncode)
    failure = failed_cell(folder / EXECUTED) if spec.get("notebook") and returncode else None
    return record_exit(folder, returncode, None, failure)


EXECUTED = "executed.ipynb"
# cells papermill adds to the executed copy: not the notebook's own
ADDED_CELL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


def notebook_argv(spec: dict, folder: Path) -> list[str]:
    """papermill, its executed copy in the job's folder, parameters injected."""
    argv = [
        sys.executable,
        *("-m", "papermill", spec["notebook"], str(folder / EXECUTED)),
        *("--parameters_yaml", json.dumps(spec["parameters"])),  # JSON is YAML
        *("--cwd", spec["cwd"], "--log-output", "--no-progress-bar"),
    ]
    try:
        with open(spec["notebook"]) as f:
            metadata = json.load(f).get("metadata", {})
        kernel = metadata.get("kernelspec", {}).get("name")
        language = metadata.get("kernelspec", {}).get("language") or metadata.get(
            "language_info", {}
        ).get("name")
    except (OSError, ValueError, AttributeError):
        kernel = language = None
    # a notebook that does not say: the lab's Python
    return [
        *argv,
        *(() if kernel else ("--kernel", "python3")),
        *(() if language else ("--language", "python")),
    ]


def failed_cell(executed: Path) -> str | None:
    """Which cell of the notebook raised, and what ('cell 3: ZeroDivisionError: ...')."""
    try:
        with open(executed) as f:
            cells = json.load(f)["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    own = [c for c in cells if not ADDED_CELL_TAGS & set(c.get("metadata", {}).get("tags", []))]
    for number, cell in enumerate(own, 1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {number}: {output.get('ename')}: {output.get('evalue')}"
    return None


def record_exit(folder: Path, code: int | None, sig: int | None, failure=None) -> int:
    record = json.dumps({"code": code, "signal": sig, "failure": failure, "t": time.time()})
    fd = os.open(folder / "exit.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(record)
    return code if code is not None else 128 + sig


def main() -> None:
    sys.exit(run(json.loads(os.environ.pop(SPEC_ENV))))


if __name__ == "__main__":
    main()
