"""Classroom benchmark: labdeck's idle culling, metrics and spawn page against stock parts.

Each figure has its baseline measured in the same run:

  idle stop lag   how long after a lab's idle timeout ran out (the server's
                  `last_activity` in the hub, plus the timeout) its server was gone:
                  labdeck's per-profile culler (the profile's `idle_seconds`) on a
                  `labdeck up` hub, against jupyterhub-idle-culler run as a service of a
                  stock hub (SimpleLocalProcessSpawner) with the same timeout. Both check
                  every `--check` seconds and both hubs learn of activity as often.
  metrics scrape  GET /services/labdeck/metrics against the hub's own GET /hub/metrics,
                  on the labdeck hub while labs run (median of `--scrapes` each, taken
                  alternately).
  spawn page      GET /hub/spawn (labdeck's form: each runtime with its time left today,
                  asked of the service) against GET /hub/home on the same hub.

Run it from the repository root:

    .venv/bin/python benchmarks/classroom.py [--users 3] [--timeout 20] [--check 2]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally (a hub that does not start, a lab never culled, a page that errors).
"""

import argparse
import json
import os
import re
import sys
import time
from datetime import datetime
from html import unescape
from pathlib import Path

import requests
from _compare import compare, print_comparison
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
    wait_until_hub_ready,
)

POLL_SECONDS = 0.2
# a lab is culled within its timeout, a check interval and the activity interval
CULL_MARGIN_SECONDS = 60


def activity_config(check: int) -> str:
    """The labs report their activity to the hub every `check` seconds on both hubs, so
    neither culler judges on older news than the other."""
    return f"c.Spawner.environment.update({{'JUPYTERHUB_ACTIVITY_INTERVAL': '{check}'}})\n"


def labdeck_config(timeout: int, check: int) -> str:
    profile = {
        "name": "cpu",
        "display_name": "CPU",
        "cpu_limit": 1.0,
        "mem_limit": "2G",
        "gpus": 0,
        "idle_seconds": timeout,
    }
    return (
        activity_config(check)
        + f"c.RuntimeProfiles.profiles = [{profile!r}]\n"
        + f"c.IdleCuller.check_seconds = {check}\n"
        + f"c.IdleCuller.warn_before_seconds = {timeout // 2}\n"
    )


def stock_culler_config(timeout: int, check: int) -> str:
    """jupyterhub-idle-culler as its documentation runs it: a hub service with a role."""
    command = [sys.executable, "-m", "jupyterhub_idle_culler"]
    command += [f"--timeout={timeout}", f"--cull-every={check}"]
    service = {"name": "idle-culler", "command": command}
    role = {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
    return (
        activity_config(check)
        # stock JupyterHub also counts proxy traffic (labdeck leaves it out)
        + f"c.JupyterHub.last_activity_interval = {check}\n"
        + f"c.JupyterHub.services = [{service!r}]\n"
        + f"c.JupyterHub.load_roles = [{role!r}]\n"
    )


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def idle_stop_lags(hub: Hub, users: list[str], timeout: int) -> list[float]:
    """Seconds between each lab's idle timeout running out and its server being gone."""
    for name in users:
        spawn_and_wait(hub, name)
    last_activity: dict[str, float] = {}
    lags: dict[str, float] = {}
    give_up = time.monotonic() + timeout + CULL_MARGIN_SECONDS
    while len(lags) < len(users):
        if time.monotonic() > give_up:
            missing = sorted(set(users) - set(lags))
            raise BenchmarkError(f"{hub.name}: labs of {missing} were never culled")
        for name in users:
            if name in lags:
                continue
            response = hub.api("GET", f"users/{name}")
            response.raise_for_status()
            server = response.json().get("servers", {}).get("")
            if server:
                last_activity[name] = parse_time(server["last_activity"])
            else:
                lags[name] = time.time() - (last_activity[name] + timeout)
        time.sleep(POLL_SECONDS)
    return [lags[name] for name in users]


def logged_in(hub: Hub) -> requests.Session:
    """A browser's session of the admin, through the hub's login form (pages take no
    API token)."""
    session = requests.Session()
    form = session.get(hub.url + "hub/login", timeout=30).text
    xsrf = re.search(r'name="_xsrf" value="([^"]*)"', form)
    password = (hub.workdir / "state" / "admin-password").read_text().strip()
    fields = {"username": "admin", "password": password, "_xsrf": xsrf and unescape(xsrf[1])}
    response = session.post(hub.url + "hub/login", data=fields, allow_redirects=False)
    if response.status_code != 302:
        raise BenchmarkError(f"{hub.name}: logging in gave {response.status_code}")
    return session


def request_seconds(session: requests.Session, url: str) -> float:
    started = time.perf_counter()
    response = session.get(url, timeout=30, allow_redirects=False)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchmarkError(f"GET {url} gave {response.status_code}")
    return elapsed


def alternate_requests(
    session: requests.Session, urls: dict[str, str], count: int
) -> dict[str, list[float]]:
    """Each URL `count` times, taking turns, so noise hits all alike (one warm-up each)."""
    for url in urls.values():
        request_seconds(session, url)
    times: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(count):
        for name, url in urls.items():
            times[name].append(request_seconds(session, url))
    return times


def start(root: Path, name: str, launch_hub, hubs: list[Hub]) -> Hub:
    workdir = root / name
    workdir.mkdir()
    print(f"starting {name} hub...", flush=True)
    hubs.append(launch_hub(workdir))
    wait_until_hub_ready(hubs[-1])
    hubs[-1].use_token()
    return hubs[-1]


def run(args: argparse.Namespace, root: Path, hubs: list[Hub]) -> dict:
    stock = start(
        root,
        "stock",
        lambda workdir: launch_stock_hub(workdir, stock_culler_config(args.timeout, args.check)),
        hubs,
    )
    labdeck = start(
        root,
        "labdeck",
        lambda workdir: launch_labdeck_hub(workdir, labdeck_config(args.timeout, args.check)),
        hubs,
    )
    users = [f"student{i}" for i in range(args.users)]
    for hub in hubs:
        for name in users:
            create_user(hub, name)
    print("idle culling...", flush=True)
    idle = {
        "stock": idle_stop_lags(stock, users, args.timeout),
        "labdeck": idle_stop_lags(labdeck, users, args.timeout),
    }
    print("metrics and spawn page...", flush=True)
    spawn_and_wait(labdeck, users[0])
    url = labdeck.url
    scrapes = alternate_requests(
        labdeck.session,
        {"labdeck": url + "services/labdeck/metrics", "hub": url + "hub/metrics"},
        args.scrapes,
    )
    pages = alternate_requests(
        logged_in(labdeck), {"labdeck": url + "hub/spawn", "hub": url + "hub/home"}, args.scrapes
    )
    return {
        "idle stop lag": compare(idle, "labdeck", "stock"),
        "metrics scrape": compare(scrapes, "labdeck", "hub"),
        "spawn page": compare(pages, "labdeck", "hub"),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=3, help="idle labs per hub")
    parser.add_argument("--timeout", type=int, default=20, help="idle timeout (s)")
    parser.add_argument("--check", type=int, default=2, help="cullers' check interval (s)")
    parser.add_argument("--scrapes", type=int, default=30, help="requests per page")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if min(args.users, args.timeout, args.check, args.scrapes) < 1:
        parser.error("every count and interval must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-classroom-bench-")
    hubs: list[Hub] = []
    try:
        scenarios = run(args, root, hubs)
    except (BenchmarkError, requests.RequestException, OSError) as e:
        report_failure("classroom", e, hubs)
        return 1
    finally:
        clean_up(root, hubs)
    print_comparison({"idle stop lag": scenarios["idle stop lag"]}, "labdeck", "stock")
    print_comparison(
        {name: scenarios[name] for name in ("metrics scrape", "spawn page")},
        "labdeck",
        "hub",
        digits=4,
    )
    if args.json:
        report = {"benchmark": "classroom", "cpus": os.cpu_count(), "scenarios": scenarios}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
