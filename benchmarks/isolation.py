"""Isolation benchmark: what per-user OS accounts cost, against labdeck's single-account mode.

Two `labdeck up` hubs side by side in one run, as root: "isolated" on its defaults (each
user's code runs as an OS account of its own) and "single" with
`c.LabdeckSpawner.isolation = False` (everything runs as root, the baseline). Each of
--repeat repetitions measures on both, taking turns going first:

  first spawn   a user never seen before: spawn request to the lab answering (the
                isolated hub also runs useradd and makes the home); then stopped
  spawn         the same user again (the account exists): request to lab answering
  session       on a running 1-worker cluster of the user's (created once per hub,
                not counted): POST livy/sessions, polled every 50 ms until `idle`
                (the isolated driver starts through setuid into the user's account)

Run it from the repository root, as root:

    .venv/bin/python benchmarks/isolation.py [--repeat 5] [--json PATH]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import requests
from _compare import compare, print_comparison
from _hubs import (
    BenchmarkError,
    Hub,
    clean_up,
    create_user,
    launch_labdeck_hub,
    make_root,
    report_failure,
    spawn_and_wait,
    stop_and_wait,
    wait_until_hub_ready,
)
from spark import Labdeck, delete_labdeck_cluster, livy_session, start_labdeck_cluster, user_token

HUBS = {"isolated": "", "single": "c.LabdeckSpawner.isolation = False\n"}
SESSIONS = "clusters/{id}/livy/sessions/{sid}"


def time_spawn(hub: Hub, name: str) -> float:
    create_user(hub, name)
    started = time.monotonic()
    ready = spawn_and_wait(hub, name)
    stop_and_wait(hub, name)
    return ready - started


def time_session(lab: Labdeck, cluster: dict) -> float:
    session_id, seconds = livy_session(lab, cluster)
    response = lab.api("DELETE", SESSIONS.format(id=cluster["id"], sid=session_id))
    if response.status_code not in (200, 204):
        raise BenchmarkError(f"deleting session {session_id} gave {response.status_code}")
    return seconds


def run(args: argparse.Namespace, root: Path, hubs: list[Hub]) -> dict[str, dict]:
    labs, clusters = {}, {}
    for name, config in HUBS.items():
        workdir = root / name
        workdir.mkdir()
        print(f"starting the {name} hub...", flush=True)
        hubs.append(launch_labdeck_hub(workdir, config, name=name))
        wait_until_hub_ready(hubs[-1])
        hubs[-1].use_token()
        lab = labs[name] = Labdeck(hubs[-1])
        lab.client.headers["Authorization"] = f"token {user_token(hubs[-1])}"
        print(f"  warm-up spawn {name}: {time_spawn(hubs[-1], 'warmup'):.2f} s (not counted)")
    figures = {scenario: {name: [] for name in HUBS} for scenario in ("first spawn", "spawn")}
    for rep in range(args.repeat):
        order = hubs if rep % 2 == 0 else hubs[::-1]
        for hub in order:
            for scenario in ("first spawn", "spawn"):
                seconds = time_spawn(hub, f"user{rep}")
                figures[scenario][hub.name].append(seconds)
                print(f"  {scenario} #{rep + 1} {hub.name:8} {seconds:6.2f} s", flush=True)
    # One cluster at a time on 2 cores: each hub's sessions run against its own cluster.
    figures["session"] = {name: [] for name in HUBS}
    for name, lab in labs.items():
        clusters[name] = start_labdeck_cluster(lab, f"bench-{name}")
        time_session(lab, clusters[name])  # warm-up: the first driver pays for cold caches
        for rep in range(args.repeat):
            seconds = time_session(lab, clusters[name])
            figures["session"][name].append(seconds)
            print(f"  session #{rep + 1} {name:8} {seconds:6.2f} s", flush=True)
        delete_labdeck_cluster(lab, clusters[name])
    return {scenario: compare(values, "isolated", "single") for scenario, values in figures.items()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per scenario")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if os.geteuid() != 0:
        parser.error("run as root: only root can make the users' accounts")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-isolation-bench-")
    hubs: list[Hub] = []
    try:
        scenarios = run(args, root, hubs)
    except (BenchmarkError, requests.RequestException, OSError, KeyError) as e:
        report_failure("isolation", e, hubs)
        return 1
    finally:
        clean_up(root, hubs)
    print_comparison(scenarios, "isolated", "single")
    if args.json:
        report = {"benchmark": "isolation", "repeat": args.repeat, "scenarios": scenarios}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
