"""Spawn benchmark: time from a spawn request to the user's lab answering.

Compares labdeck (`labdeck up`: its SimpleLocalProcessSpawner subclass, control-plane
service and lab server extension) with stock JupyterHub 6 running plain
SimpleLocalProcessSpawner, on the same machine in the same run. Both hubs run side
by side and are measured alternately, repetition by repetition, so machine noise hits
both alike. Each hub gets one uncounted warm-up spawn.

Scenarios:
  one user       spawn one user's server, wait for its lab, stop it; `--repeat` times
  N users        spawn `--users` servers at once; time until the last lab answers

"Lab answering" means `GET /user/<name>/api/status` through the proxy, with the admin
token, returns 200; it is polled every 50 ms from the moment the spawn POST is sent.
Every server is fully stopped before the next repetition.

Run it from the repository root:

    .venv/bin/python benchmarks/spawn.py [--repeat 5] [--users 10] [--json PATH]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally (a hub that does not start, a spawn that errors or never answers).
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from _hubs import (
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
    wait_until_hub_ready,
)

# --- scenarios ------------------------------------------------------------------------


def time_one_user(hub: Hub) -> float:
    """Seconds from the spawn request to the lab answering, for one user alone."""
    started = time.monotonic()
    ready = spawn_and_wait(hub, "solo")
    stop_and_wait(hub, "solo")
    return ready - started


def many_users(count: int) -> list[str]:
    return [f"crowd{i}" for i in range(count)]


def time_many_users(hub: Hub, count: int) -> float:
    """Seconds from sending `count` spawn requests at once until the last lab answers."""
    names = many_users(count)
    # Threads: each request and poll loop blocks on I/O, and the spawns must overlap.
    with ThreadPoolExecutor(max_workers=count) as pool:
        started = time.monotonic()
        ready_times = list(pool.map(lambda name: spawn_and_wait(hub, name), names))
        elapsed = max(ready_times) - started
        list(pool.map(lambda name: stop_and_wait(hub, name), names))
    return elapsed


def alternate(
    hubs: list[Hub], repeat: int, measure: Callable[[Hub], float], label: str
) -> dict[str, list[float]]:
    """Run `measure` on each hub in turn, `repeat` times, swapping who goes first."""
    figures = {hub.name: [] for hub in hubs}
    for rep in range(repeat):
        # Whoever runs second may find the disk cache warmer; take turns going first.
        order = hubs if rep % 2 == 0 else hubs[::-1]
        for hub in order:
            seconds = measure(hub)
            figures[hub.name].append(seconds)
            print(f"  {label} #{rep + 1} {hub.name:8} {seconds:6.2f} s", flush=True)
    return figures


# --- reporting ------------------------------------------------------------------------


def summarize(figures: dict[str, list[float]]) -> dict:
    stock, labdeck = figures["stock"], figures["labdeck"]
    summary = {
        "stock_seconds": stock,
        "labdeck_seconds": labdeck,
        "stock_median": statistics.median(stock),
        "labdeck_median": statistics.median(labdeck),
    }
    summary["ratio"] = summary["labdeck_median"] / summary["stock_median"]
    return summary


def print_table(scenarios: dict[str, dict]) -> None:
    header = (
        f"{'scenario':16} {'stock med':>10} {'labdeck med':>12} {'ratio':>6}"
        f"  {'stock min-max':>14}  {'labdeck min-max':>15}"
    )
    print()
    print(header)
    print("-" * len(header))
    for name, s in scenarios.items():
        stock_range = f"{min(s['stock_seconds']):.2f}-{max(s['stock_seconds']):.2f}"
        labdeck_range = f"{min(s['labdeck_seconds']):.2f}-{max(s['labdeck_seconds']):.2f}"
        print(
            f"{name:16} {s['stock_median']:9.2f}s {s['labdeck_median']:11.2f}s"
            f" {s['ratio']:6.2f}  {stock_range:>14}  {labdeck_range:>15}"
        )
    print()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per scenario")
    parser.add_argument("--users", type=int, default=10, help="users spawned at once")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.users < 1:
        parser.error("--repeat and --users must be at least 1")
    return args


def run(args: argparse.Namespace, root: Path, hubs: list[Hub]) -> dict:
    for name, launch_hub in (("stock", launch_stock_hub), ("labdeck", launch_labdeck_hub)):
        workdir = root / name
        workdir.mkdir()
        print(f"starting {name} hub...", flush=True)
        # Known to `main` before it is ready, so it is stopped even if it never answers.
        hubs.append(launch_hub(workdir))
        wait_until_hub_ready(hubs[-1])
        hubs[-1].use_token()
    for hub in hubs:
        for name in ["solo", *many_users(args.users)]:
            create_user(hub, name)
        # The first spawn pays for cold imports and a new home dir; do not count it.
        print(f"  warm-up {hub.name:8} {time_one_user(hub):6.2f} s (not counted)", flush=True)
    one = alternate(hubs, args.repeat, time_one_user, "1 user")
    crowd = alternate(
        hubs, args.repeat, lambda hub: time_many_users(hub, args.users), f"{args.users} users"
    )
    return {"1 user": summarize(one), f"{args.users} users at once": summarize(crowd)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-spawn-bench-")
    hubs: list[Hub] = []
    try:
        scenarios = run(args, root, hubs)
    except (BenchmarkError, requests.RequestException, OSError) as e:
        report_failure("spawn", e, hubs)
        return 1
    finally:
        clean_up(root, hubs)

    print_table(scenarios)
    ratio = scenarios["1 user"]["ratio"]
    print(f"spawn ratio (1 user, median): {ratio:.2f}  target <= 1.10")
    if args.json:
        report = {
            "benchmark": "spawn",
            "repeat": args.repeat,
            "users": args.users,
            "cpus": os.cpu_count(),
            "scenarios": scenarios,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
