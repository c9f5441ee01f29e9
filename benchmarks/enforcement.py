"""Enforcement benchmark: how close to its deadline labdeck actually stops a session.

One `labdeck up` hub in a temp dir. Each measured session belongs to a user of its own:
spawn, wait until the lab answers, then arm a stop about 3 s ahead:

  labdeck   set the user's `session_seconds` (admin quota API) so that the session's
            deadline, counted from its ledger `started`, lands ~3 s from now; labdeck's
            enforcer must stop it at that deadline (end_reason "session_limit")
  direct    the baseline: the same planned instant computed the same way, but the stop
            is a plain `DELETE /hub/api/users/<name>/server` sent at that instant

and measure, for each:

  observed lag  first moment the hub API shows no server (polled every 50 ms from the
                moment the stop is armed) minus the deadline
  ledger lag    `ended - deadline` from labdeck's usage ledger
  route lag     when the hub removed the user's proxy route (its log line "Removing user
                <name> from proxy"), minus the deadline: the moment the stop reached the
                hub and the user lost access; the rest of the observed lag is the hub
                waiting for the server process to exit

Sessions run `--concurrency` at a time (a class does not stop one by one) in batches
that alternate between the two kinds, taking turns going first, so machine noise hits
both alike. One uncounted warm-up session of each kind comes first. The ratio of labdeck
lag to direct lag separates the enforcer's own overhead from the hub's stop time; the
route lag does so more sharply, since it leaves out the wait for the process to exit.

Run it from the repository root:

    .venv/bin/python benchmarks/enforcement.py [--sessions 10] [--concurrency 5] [--json PATH]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally (a hub that does not start, a spawn that fails, a session not stopped
within 30 s of its deadline, an enforced session ended for another reason).
"""

import argparse
import json
import math
import os
import re
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from _hubs import (
    POLL_SECONDS,
    BenchmarkError,
    Hub,
    clean_up,
    create_user,
    launch_labdeck_hub,
    make_root,
    report_failure,
    spawn_and_wait,
    wait_until_hub_ready,
)

SERVICE_API = "services/labdeck/api/v1/"
# Far enough ahead that the quota update lands before the deadline even on a busy
# machine, close enough that a run stays short.
DEADLINE_LEAD_SECONDS = 3
STOP_LIMIT_SECONDS = 30
EXPECTED_END_REASON = "session_limit"
KINDS = ("labdeck", "direct")
# JupyterHub logs local time without a zone, e.g.
# [I 2026-11-25 08:44:28.673 JupyterHub proxy:360] Removing user ann from proxy (/user/ann/)
ROUTE_REMOVED = re.compile(
    r"^\[\w (\S+ \S+) JupyterHub proxy:\d+\] Removing user (\S+) from proxy", re.MULTILINE
)


@dataclass
class Measurement:
    """One stopped session; `deadline` is the ledger's (labdeck) or the planned instant."""

    user: str
    kind: str
    spawn_seconds: float
    armed: datetime
    deadline: datetime
    gone: datetime
    ended: datetime
    end_reason: str
    route_removed: datetime | None = field(default=None)

    @property
    def observed_lag(self) -> float:
        return (self.gone - self.deadline).total_seconds()

    @property
    def ledger_lag(self) -> float:
        return (self.ended - self.deadline).total_seconds()

    @property
    def route_lag(self) -> float | None:
        if self.route_removed is None:
            return None
        return (self.route_removed - self.deadline).total_seconds()

    def as_json(self) -> dict:
        return {
            "user": self.user,
            "kind": self.kind,
            "spawn_seconds": round(self.spawn_seconds, 3),
            "lead_seconds": round((self.deadline - self.armed).total_seconds(), 3),
            "deadline": self.deadline.isoformat(),
            "observed_lag_seconds": round(self.observed_lag, 3),
            "ledger_lag_seconds": round(self.ledger_lag, 3),
            "route_lag_seconds": None if self.route_lag is None else round(self.route_lag, 3),
            "end_reason": self.end_reason,
        }


def now() -> datetime:
    # Wall clock, not monotonic: the ledger's times come from the service's wall clock.
    return datetime.now(UTC)


def parse_time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def sleep_until(at: datetime) -> None:
    time.sleep(max((at - now()).total_seconds(), 0))


# --- the labdeck service and the hub, as the benchmark asks them ------------------------


def service_api(hub: Hub, method: str, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("timeout", 30)
    return hub.session.request(method, f"{hub.url}{SERVICE_API}{path}", **kwargs)


def latest_session(hub: Hub, name: str) -> dict:
    response = service_api(hub, "GET", "sessions", params={"user": name})
    if response.status_code != 200 or not response.json():
        raise BenchmarkError(f"no ledger session for {name}: {response.status_code}")
    return response.json()[0]  # newest first


def hub_shows_no_server(hub: Hub, name: str) -> bool:
    response = hub.api("GET", f"users/{name}")
    if response.status_code != 200:
        raise BenchmarkError(f"reading {name} gave {response.status_code}")
    return "" not in (response.json().get("servers") or {})


# --- arming a stop ----------------------------------------------------------------------


def planned_limit(started: datetime) -> tuple[int, datetime]:
    """Whole `session_seconds` (the quota takes no fractions) putting the end ~3 s ahead."""
    elapsed = (now() - started).total_seconds()
    seconds = math.ceil(elapsed + DEADLINE_LEAD_SECONDS)
    return seconds, started + timedelta(seconds=seconds)


def arm_labdeck_stop(hub: Hub, name: str, session: dict) -> datetime:
    """Lower the user's session limit; return the deadline the ledger then shows."""
    seconds, planned = planned_limit(parse_time(session["started"]))
    quota = {session["profile"]: {"session_seconds": seconds}}
    response = service_api(hub, "PUT", f"admin/users/{name}/quota", json=quota)
    if response.status_code != 200:
        raise BenchmarkError(f"setting {name}'s quota gave {response.status_code}")
    moved = latest_session(hub, name)
    if moved["id"] != session["id"] or moved["deadline_reason"] != EXPECTED_END_REASON:
        raise BenchmarkError(f"{name}'s deadline did not move to the session limit: {moved}")
    deadline = parse_time(moved["deadline"])
    if abs((deadline - planned).total_seconds()) > 0.001:
        raise BenchmarkError(f"{name}'s deadline is {deadline}, expected {planned}")
    return deadline


def delete_server_at(hub: Hub, name: str, at: datetime) -> None:
    sleep_until(at)
    response = hub.api("DELETE", f"users/{name}/server")
    if response.status_code not in (202, 204):
        raise BenchmarkError(f"stopping {name} gave {response.status_code}")


def arm_direct_stop(
    hub: Hub, name: str, session: dict, stopper: ThreadPoolExecutor
) -> tuple[datetime, Future]:
    """Plan the same instant as a labdeck stop would get; send the DELETE then."""
    _, planned = planned_limit(parse_time(session["started"]))
    # From its own thread, so the DELETE leaves on time whatever the poll loop is doing.
    return planned, stopper.submit(delete_server_at, hub, name, planned)


# --- measuring --------------------------------------------------------------------------


def wait_until_server_gone(hub: Hub, name: str, deadline: datetime) -> datetime:
    """When the hub first shows no server; polled from now, so an early stop shows too."""
    give_up = deadline + timedelta(seconds=STOP_LIMIT_SECONDS)
    while now() < give_up:
        if hub_shows_no_server(hub, name):
            return now()  # when the answer arrived: both kinds are timed alike
        time.sleep(POLL_SECONDS)
    raise BenchmarkError(f"{name}'s server still ran {STOP_LIMIT_SECONDS} s after its deadline")


def wait_until_ledger_closed(hub: Hub, name: str, session_id: int, deadline: datetime) -> dict:
    # The spawner reports the end to the service while the hub is still stopping, so the
    # entry is usually closed already; if the report was slow, give it the same 30 s.
    give_up = deadline + timedelta(seconds=STOP_LIMIT_SECONDS)
    while now() < give_up:
        session = latest_session(hub, name)
        if session["id"] != session_id:
            raise BenchmarkError(f"{name} has a new session {session['id']} unexpectedly")
        if session["ended"]:
            return session
        time.sleep(0.2)
    raise BenchmarkError(f"{name}'s ledger entry was not closed {STOP_LIMIT_SECONDS} s on")


def measure_session(hub: Hub, name: str, kind: str) -> Measurement:
    requested = time.monotonic()
    spawn_seconds = spawn_and_wait(hub, name) - requested
    session = latest_session(hub, name)
    if session["ended"]:
        raise BenchmarkError(f"{name}'s session ended before its stop was armed: {session}")
    with ThreadPoolExecutor(max_workers=1) as stopper:
        armed = now()
        if kind == "labdeck":
            deadline, delete = arm_labdeck_stop(hub, name, session), None
        else:
            deadline, delete = arm_direct_stop(hub, name, session, stopper)
        gone = wait_until_server_gone(hub, name, deadline)
        if delete is not None:
            delete.result()  # raises if the hub refused the DELETE
    closed = wait_until_ledger_closed(hub, name, session["id"], deadline)
    if kind == "labdeck" and closed["end_reason"] != EXPECTED_END_REASON:
        raise BenchmarkError(
            f"{name}'s session ended for {closed['end_reason']!r}, not {EXPECTED_END_REASON!r}"
        )
    return Measurement(
        name,
        kind,
        spawn_seconds,
        armed,
        deadline,
        gone,
        parse_time(closed["ended"]),
        closed["end_reason"],
    )


def run_batch(hub: Hub, names: list[str], kind: str) -> list[Measurement]:
    # Threads: every session's spawn and poll loop blocks on I/O and they must overlap.
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        return list(pool.map(lambda name: measure_session(hub, name, kind), names))


def user_names(kind: str, count: int) -> list[str]:
    return [f"{kind}{i}" for i in range(count)]


def batches(names: list[str], size: int) -> list[list[str]]:
    return [names[i : i + size] for i in range(0, len(names), size)]


def measure_all(hub: Hub, sessions: int, concurrency: int) -> dict[str, list[Measurement]]:
    """Alternate labdeck and direct batches, taking turns going first."""
    plan = {kind: batches(user_names(kind, sessions), concurrency) for kind in KINDS}
    results: dict[str, list[Measurement]] = {kind: [] for kind in KINDS}
    for number in range(len(plan["labdeck"])):
        order = KINDS if number % 2 == 0 else KINDS[::-1]
        for kind in order:
            batch = run_batch(hub, plan[kind][number], kind)
            results[kind] += batch
            for m in batch:
                print(
                    f"  batch {number + 1} {kind:8} {m.user:10} spawn {m.spawn_seconds:5.1f} s"
                    f"  observed lag {m.observed_lag:6.2f} s  ledger lag {m.ledger_lag:6.2f} s",
                    flush=True,
                )
    return results


def attach_route_removals(hub: Hub, results: dict[str, list[Measurement]]) -> None:
    """Read from the hub log when each measured user's proxy route was removed."""
    removed = {}
    for stamp, user in ROUTE_REMOVED.findall(hub.log_path.read_text(errors="replace")):
        # A naive datetime's astimezone() reads it as local time, as the hub wrote it.
        local = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
        removed[user] = local.astimezone(UTC)  # each measured user stops once
    for m in (m for kind in KINDS for m in results[kind]):
        m.route_removed = removed.get(m.user)


def warm_up(hub: Hub) -> None:
    # The first spawn and the first enforced stop pay for cold imports and code paths.
    for kind in KINDS:
        m = measure_session(hub, f"warmup{kind}", kind)
        print(f"  warm-up {kind:8} observed lag {m.observed_lag:6.2f} s (not counted)", flush=True)


# --- reporting --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in 0..100."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def spread(values: list[float | None]) -> dict | None:
    if not values or None in values:
        return None  # a log line was missing: no figure rather than a skewed one
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values),
    }


def summarize(results: dict[str, list[Measurement]]) -> dict:
    summary = {
        kind: {
            "observed_lag": spread([m.observed_lag for m in results[kind]]),
            "ledger_lag": spread([m.ledger_lag for m in results[kind]]),
            "route_lag": spread([m.route_lag for m in results[kind]]),
        }
        for kind in KINDS
    }
    labdeck, direct = summary["labdeck"]["observed_lag"], summary["direct"]["observed_lag"]
    summary["ratio_observed"] = {
        stat: ratio(labdeck[stat], direct[stat]) for stat in ("p50", "p95")
    }
    # The ratio explodes when the hub stops fast; the difference reads more plainly.
    summary["overhead_observed_p50"] = labdeck["p50"] - direct["p50"]
    return summary


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def print_report(summary: dict, loads: dict) -> None:
    header = f"{'lag (s)':24} {'p50':>7} {'p95':>7} {'max':>7}"
    print()
    print(header)
    print("-" * len(header))
    for kind in KINDS:
        for lag in ("observed_lag", "ledger_lag", "route_lag"):
            s = summary[kind][lag]
            label = f"{kind} {lag.replace('_', ' ')}"
            if s is None:
                print(f"{label:24} {'(not in the hub log)':>23}")
                continue
            print(f"{label:24} {s['p50']:7.2f} {s['p95']:7.2f} {s['max']:7.2f}")
    print()
    for stat, value in summary["ratio_observed"].items():
        shown = f"{value:.2f}" if value is not None else "n/a (direct lag <= 0)"
        print(f"ratio labdeck/direct (observed {stat}): {shown}")
    print(f"labdeck overhead (observed p50 difference): {summary['overhead_observed_p50']:.2f} s")
    print(f"load average (1 min) at start {loads['start']:.2f}, at end {loads['end']:.2f}")
    p95 = summary["labdeck"]["observed_lag"]["p95"]
    print(f"enforcement p95 (observed): {p95:.2f} s  target <= 2 s")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10, help="measured sessions of each kind")
    parser.add_argument("--concurrency", type=int, default=5, help="sessions run at once")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.concurrency < 1:
        parser.error("--sessions and --concurrency must be at least 1")
    return args


def run(args: argparse.Namespace, root: Path, hubs: list[Hub]) -> tuple[dict, dict]:
    print("starting labdeck hub...", flush=True)
    # Known to `main` before it is ready, so it is stopped even if it never answers.
    hubs.append(launch_labdeck_hub(root))
    hub = hubs[0]
    wait_until_hub_ready(hub)
    hub.use_token()
    for kind in KINDS:
        for name in [f"warmup{kind}", *user_names(kind, args.sessions)]:
            create_user(hub, name)
    warm_up(hub)
    loads = {"start": os.getloadavg()[0]}
    results = measure_all(hub, args.sessions, args.concurrency)
    loads["end"] = os.getloadavg()[0]
    attach_route_removals(hub, results)
    return results, loads


def write_json(path: Path, args: argparse.Namespace, results: dict, summary: dict, loads):
    report = {
        "benchmark": "enforcement",
        "sessions": args.sessions,
        "concurrency": args.concurrency,
        "deadline_lead_seconds": DEADLINE_LEAD_SECONDS,
        "cpus": os.cpu_count(),
        "load_average_1min": loads,
        "summary": summary,
        "measurements": [m.as_json() for kind in KINDS for m in results[kind]],
    }
    path.write_text(json.dumps(report, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-enforcement-bench-")
    hubs: list[Hub] = []
    try:
        results, loads = run(args, root, hubs)
    except (BenchmarkError, requests.RequestException, OSError, ValueError, KeyError) as e:
        report_failure("enforcement", e, hubs)
        return 1
    finally:
        clean_up(root, hubs)

    summary = summarize(results)
    print_report(summary, loads)
    if args.json:
        write_json(args.json, args, results, summary, loads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
