"""Slurm benchmark: labdeck on a real Slurm against batchspawner alone and bare sbatch.

Starts a real single-node Slurm (munged, slurmctld, slurmd on free ports in a folder of
its own, tests/slurm_support.py) and two hubs on it, each in a temp dir:

  labdeck   `labdeck up --backend slurm` with the cluster's config lines
            (`SlurmCluster.labdeck_config()`: its slurm.conf, Slurm polled every 0.5 s)
            and one runtime profile, `small`: 1 core, 512M. As root each user's lab and
            jobs run as an OS account of its own (root submits with sbatch --uid/--gid).
  stock     JupyterHub 6 with batchspawner's plain `batchspawner.SlurmSpawner` (its batch
            script, `srun`, `--get-user-env=L`, its 0.5 s startup poll), 1 core and 512M
            (`req_nprocs`, `req_memory`), the PyPI configurable-http-proxy, a token-only
            admin. Its user is a real OS account made for the run (useradd, removed at
            the end), named like the hub user as batchspawner expects. Two changes from
            batchspawner's defaults: this machine has no sudo, so instead of
            `exec_prefix = "sudo -E -u {username}"` root submits as the user with
            `sbatch --parsable --uid={username} --gid={username}` (what Slurm offers root
            for that, and what labdeck does); and the hub passes SLURM_CONF to sbatch
            (`Spawner.environment`; the hub itself runs with it too), as the test cluster is
            not in /etc/slurm.

Figures, each --repeat times, taking turns going first:

  spawn     from the spawn POST (no body: labdeck's default profile, `small`) until
            GET /user/<name>/api/status answers 200 through the hub's proxy, polled every
            50 ms (as benchmarks/spawn.py). Each hub has one uncounted warm-up spawn;
            the lab is stopped and Slurm's queue is empty before the next spawn (the
            node has 2 cores).
  job       labdeck: POST /services/labdeck/api/v1/jobs (a small script that waits for a
            file, profile `small`) until GET jobs/<id> says RUNNING, polled every 50 ms.
            Baseline: `sbatch --parsable --uid --gid --cpus-per-task=1 --mem=512M --wrap`
            of the same script with the same Python, as the same account in the same
            folder, until `squeue -j <id>` says RUNNING, polled every 50 ms. Both jobs
            are then let finish and the queue emptied before the next.

Every timed spawn and submit comes 5 s after Slurm's queue emptied: a job submitted
within ~3 s of the previous one's end waits for the controller's next scheduling pass,
one submitted after a quiet spell is allocated at once, and without the pause that, not
labdeck or batchspawner, decided the figures (whoever came right after a job lost ~2 s).

Run it from the repository root, as root, with Slurm installed (scripts/setup --test):

    .venv/bin/python benchmarks/slurm.py [--repeat 5] [--json PATH] [--keep]

--keep keeps the temp dir with every hub's log and the Slurm daemons' logs. It reports
numbers and never judges them; it exits non-zero only when something fails functionally.
"""

import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests
from _compare import compare, print_comparison
from _hubs import (
    ACCOUNT_PREFIX,
    VENV_BIN,
    BenchmarkError,
    Hub,
    clean_up,
    create_user,
    launch_labdeck_hub,
    launch_stock_hub,
    make_root,
    report_failure,
    spawn_and_wait,
    stop_and_wait,
    stop_hub,
    wait_until_hub_ready,
)
from labdeck.quota.policy import QuotaPolicy
from spark import USER, Labdeck, user_token, wait_for

# The test suite's single-node Slurm is the one real cluster this project knows how to
# start and stop cleanly: use it, not a copy of it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from slurm_support import SlurmCluster, missing_binaries, start_cluster

POLL = 0.05
TIMEOUT = 120
CORES = 1
MEMORY = "512M"
LABDECK_USER = "solo"
# batchspawner runs the lab as the OS account named like the hub user
STOCK_USER = f"{ACCOUNT_PREFIX}stock"
# waits (at most 2 minutes) for a file named "go" in its working directory
JOB_SCRIPT = """
import os, time
print("started", flush=True)
deadline = time.monotonic() + 120
while not os.path.exists("go") and time.monotonic() < deadline:
    time.sleep(0.05)
"""
SIDES = ("labdeck", "baseline")
# Slurm allocates a job at once when it is submitted after a quiet spell, but one
# submitted within ~3 s of the previous job's end waits for the controller's next
# scheduling pass (seen here: 0.3 s against 2-3 s). Every timed submit comes this long
# after the queue emptied, so both sides find the scheduler in the same state.
QUIET_SECONDS = 5
ACTIVE_STATES = "PENDING,CONFIGURING,RUNNING,COMPLETING,SUSPENDED"


# --- the hubs ---------------------------------------------------------------------------


def labdeck_config(cluster: SlurmCluster) -> str:
    profiles = [{"name": "small", "display_name": "Small", "cpu_limit": CORES, "mem_limit": MEMORY}]
    quota = {**QuotaPolicy().default_quota, "small": {"session_seconds": 3600}}
    return (
        cluster.labdeck_config()
        + f"c.RuntimeProfiles.profiles = {profiles!r}\n"
        + f"c.QuotaPolicy.default_quota = {quota!r}\n"
    )


def batchspawner_settings(cluster: SlurmCluster) -> dict:
    """The stock hub's spawner: batchspawner's SlurmSpawner on the test cluster."""
    return {
        "JupyterHub.spawner_class": "batchspawner.SlurmSpawner",
        "SlurmSpawner.batchspawner_singleuser_cmd": str(VENV_BIN / "batchspawner-singleuser"),
        "Spawner.environment": {"SLURM_CONF": str(cluster.conf)},
        "SlurmSpawner.exec_prefix": "",
        "SlurmSpawner.batch_submit_cmd": "sbatch --parsable --uid={username} --gid={username}",
        "SlurmSpawner.req_nprocs": str(CORES),
        "SlurmSpawner.req_memory": MEMORY,
    }


# batchspawner's README: imported for its hub API handler (the lab reports its port)
BATCHSPAWNER_IMPORT = "import batchspawner  # noqa\n"


def make_stock_account(workdir: Path) -> None:
    """The stock hub's user as an OS account, its home under the run's temp dir."""
    homes = workdir / "homes"
    homes.mkdir()
    home = homes / STOCK_USER
    subprocess.run(
        ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", STOCK_USER],
        check=True,
        capture_output=True,
    )


# --- spawn ------------------------------------------------------------------------------


def queue_empty(cluster: SlurmCluster) -> None:
    """No job of any hub or of ours left in Slurm: the node's cores are all free."""
    wait_for(lambda: not cluster.squeue("-t", ACTIVE_STATES), TIMEOUT, "Slurm's queue to empty")


def quiet(cluster: SlurmCluster) -> None:
    """The queue empty, then QUIET_SECONDS of nothing (a time Slurm's scheduler counts,
    not a condition one can ask it for)."""
    queue_empty(cluster)
    time.sleep(QUIET_SECONDS)


def time_spawn(hub: Hub, user: str, cluster: SlurmCluster) -> float:
    quiet(cluster)
    started = time.monotonic()
    ready = spawn_and_wait(hub, user)
    stop_and_wait(hub, user)
    queue_empty(cluster)
    return ready - started


# --- job submit -> RUNNING --------------------------------------------------------------


def home_of(lab: Labdeck) -> Path:
    return lab.state_dir / "homes" / USER


def job_folder(lab: Labdeck, name: str) -> Path:
    """A folder of the user's own in their home, with the script in it."""
    home = home_of(lab)
    owner = home.stat()
    folder = home / name
    folder.mkdir()
    (folder / "job.py").write_text(JOB_SCRIPT)
    for path in (folder, folder / "job.py"):
        os.chown(path, owner.st_uid, owner.st_gid)
    return folder


def labdeck_job(lab: Labdeck, cluster: SlurmCluster, rep: int) -> float:
    name = f"labdeck-{rep}"
    folder = job_folder(lab, name)
    body = {"name": name, "script": f"{name}/job.py", "working_dir": name, "profile": "small"}
    quiet(cluster)
    began = time.monotonic()
    response = lab.api("POST", "jobs", json=body)
    if response.status_code != 201:
        raise BenchmarkError(f"submitting a job gave {response.status_code}: {response.text}")
    job_id = response.json()["id"]

    def state() -> str:
        job = lab.api("GET", f"jobs/{job_id}").json()
        if job["state"] in ("COMPLETED", "FAILED", "STOPPED"):
            raise BenchmarkError(f"job {job_id} ended {job['state']}: {job['state_reason']}")
        return job["state"]

    wait_for(lambda: state() == "RUNNING", TIMEOUT, f"labdeck job {job_id} to run", poll=POLL)
    running = time.monotonic() - began
    (folder / "go").touch()

    def ended() -> dict | None:
        job = lab.api("GET", f"jobs/{job_id}").json()
        return job if job["state"] in ("COMPLETED", "FAILED", "STOPPED") else None

    job = wait_for(ended, TIMEOUT, f"labdeck job {job_id} to end")
    if job["state"] != "COMPLETED":
        raise BenchmarkError(f"job {job_id} ended {job['state']}: {job['state_reason']}")
    queue_empty(cluster)
    return running


def sbatch_job(lab: Labdeck, cluster: SlurmCluster, rep: int) -> float:
    folder = job_folder(lab, f"sbatch-{rep}")
    account = pwd.getpwuid(folder.stat().st_uid)
    command = [
        "sbatch",
        "--parsable",
        f"--uid={account.pw_uid}",
        f"--gid={account.pw_gid}",
        f"--chdir={folder}",
        f"--output={folder / 'slurm-%j.out'}",
        f"--cpus-per-task={CORES}",
        f"--mem={MEMORY}",
        f"--wrap={sys.executable} job.py",
    ]
    quiet(cluster)
    began = time.monotonic()
    job_id = cluster.run(*command).stdout.strip().split(";")[0]

    def state() -> str:
        return cluster.run("squeue", "-h", "-j", job_id, "-o", "%T").stdout.strip()

    wait_for(lambda: state() == "RUNNING", TIMEOUT, f"sbatch job {job_id} to run", poll=POLL)
    running = time.monotonic() - began
    (folder / "go").touch()
    wait_for(lambda: state() == "", TIMEOUT, f"sbatch job {job_id} to end")
    ended = cluster.job(job_id)
    if ended.get("JobState") != "COMPLETED":
        raise BenchmarkError(f"sbatch job {job_id} ended {ended.get('JobState')}")
    queue_empty(cluster)
    return running


# --- the run ----------------------------------------------------------------------------


def alternate(repeat: int, sides: dict, label: str) -> dict[str, list[float]]:
    """Each side's measure `repeat` times, taking turns going first."""
    names = list(sides)
    figures = {name: [] for name in names}
    for rep in range(repeat):
        for name in names if rep % 2 == 0 else names[::-1]:
            seconds = sides[name](rep)
            figures[name].append(seconds)
            print(f"  {label} #{rep + 1} {name:8} {seconds:6.2f} s", flush=True)
    return figures


def run(args: argparse.Namespace, root: Path, hubs: list[Hub], cluster: SlurmCluster) -> dict:
    stock_dir, labdeck_dir = root / "stock", root / "labdeck"
    for workdir in (stock_dir, labdeck_dir):
        workdir.mkdir()
    make_stock_account(stock_dir)
    print("starting stock hub...", flush=True)
    hubs.append(launch_stock_hub(stock_dir, BATCHSPAWNER_IMPORT, batchspawner_settings(cluster)))
    print("starting labdeck hub...", flush=True)
    hubs.append(
        launch_labdeck_hub(labdeck_dir, labdeck_config(cluster), args=("--backend", "slurm"))
    )
    for hub in hubs:
        wait_until_hub_ready(hub)
        hub.use_token()
    labdeck = hubs[1]
    users = {"stock": STOCK_USER, "labdeck": LABDECK_USER}
    for hub in hubs:
        create_user(hub, users[hub.name])
        seconds = time_spawn(hub, users[hub.name], cluster)
        print(f"  warm-up {hub.name:8} {seconds:6.2f} s (not counted)", flush=True)
    spawn = alternate(
        args.repeat,
        {hub.name: (lambda _, hub=hub: time_spawn(hub, users[hub.name], cluster)) for hub in hubs},
        "spawn",
    )

    lab = Labdeck(labdeck)
    lab.client.headers["Authorization"] = f"token {user_token(labdeck)}"
    # refused (no such script), and the user's account and home are made
    if lab.api("POST", "jobs", json={"script": "none.py"}).status_code != 400:
        raise BenchmarkError("the service did not check a missing script")
    job = alternate(
        args.repeat,
        {
            "labdeck": lambda rep: labdeck_job(lab, cluster, rep),
            "sbatch": lambda rep: sbatch_job(lab, cluster, rep),
        },
        "job",
    )
    return {
        "spawn": compare({"labdeck": spawn["labdeck"], "baseline": spawn["stock"]}, *SIDES),
        "job": compare({"labdeck": job["labdeck"], "baseline": job["sbatch"]}, *SIDES),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per figure")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and its logs")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    missing = missing_binaries()
    if missing:
        print(f"Slurm is not installed here (missing {', '.join(missing)})", file=sys.stderr)
        return 1
    root = make_root("labdeck-slurm-bench-")
    hubs: list[Hub] = []
    cluster = None
    try:
        print("starting Slurm...", flush=True)
        cluster = start_cluster()
        # This machine's Slurm commands reach the benchmark's cluster, in both hubs:
        # batchspawner runs squeue and scancel with the hub's own environment.
        os.environ["SLURM_CONF"] = str(cluster.conf)
        figures = run(args, root, hubs, cluster)
    except (
        BenchmarkError,
        requests.RequestException,
        subprocess.SubprocessError,
        OSError,
        KeyError,
        ValueError,
        RuntimeError,
        TimeoutError,
    ) as e:
        report_failure("slurm", e, hubs)
        if cluster is not None:
            print(f"--- Slurm's logs ---\n{cluster.logs()[-3000:]}", file=sys.stderr)
        return 1
    finally:
        # the hubs cancel their labs, then Slurm ends whatever is left, then the accounts go
        for hub in hubs:
            stop_hub(hub)
        if cluster is not None:
            if args.keep:
                shutil.copytree(cluster.root / "log", root / "slurm-log", dirs_exist_ok=True)
            cluster.stop()
        clean_up(root, hubs, args.keep)
    # baseline: batchspawner alone (spawn), bare sbatch (job)
    print_comparison(figures, *SIDES)
    if args.json:
        report = {"benchmark": "slurm", "repeat": args.repeat, "cpus": os.cpu_count(), **figures}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
