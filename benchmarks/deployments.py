"""Deployments benchmark: an endpoint through labdeck against a plain uvicorn server of
the same model, same machine, same run.

One `labdeck up` hub in a temp dir (as root: replicas run as the user's own account, in
a cgroup), one user with a token of their own, one trivial model (an `inference.py`
that scales four numbers). The baseline is the model server labdeck's replicas run,
`python -m labdeck.deployments.server` (raw ASGI on uvicorn), started directly by the
benchmark as root, with no gateway, cgroup or account in front of it: what is compared
is the way in, not the model server.

Every request is `POST .../invocations` with the same JSON body, sent with http.client
over a keep-alive connection; every answer is checked. Four ways to the same model:

  plain     the baseline server on its loopback port (its bearer token)
  replica   labdeck's replica, straight to its loopback port (port and replica token
            from the service's database): the same server, as the user, in its cgroup
  service   the labdeck service's own port (from its JUPYTERHUB_SERVICE_URL), with the
            user's token: the service's gateway alone
  proxy     the public URL: the hub's proxy -> the service's gateway -> the replica

Figures:

  latency     --requests sequential requests per way after --warmup uncounted ones, in
              blocks of 100 taking turns (so drift hits every way alike): p50, p99,
              mean, and each way's p50 and p99 minus plain's ("added"); also the
              gateway's own view from GET deployments/<name>/metrics (model and
              overhead latency per invocation)
  throughput  --clients threads, each with its own keep-alive connection, sending
              requests back to back for --seconds per way (half in one order, half
              in the reverse): answers per second and the ratio to plain
  cold start  a serverless deployment (idle_seconds_to_zero=10) once it is at zero (its
              replica stopped and the service's saved state without it): the first
              request through the proxy (held through the cold start) and the median
              of 5 warm ones right after, --cold-repeat times; baseline: Popen of the
              plain server until its first answer (ready file polled every 5 ms)
  memory      VmRSS (median of 10 readings 0.2 s apart) of the idle realtime replica
              and of the plain server after the same traffic; then the service's VmRSS
              before and with --deployments more realtime deployments (one replica
              each, called once): its increment per deployment, and each replica's RSS

Run it from the repository root, as root:

    .venv/bin/python benchmarks/deployments.py [--requests 2000] [--warmup 200] \
        [--clients 8] [--seconds 10] [--cold-repeat 3] [--deployments 4] [--json PATH]

It reports numbers and never judges them; it exits non-zero only when something fails
functionally (a deployment that does not serve, a wrong answer, an error under load, a
model server left running after its DELETE).
"""

import argparse
import contextlib
import http.client
import json
import math
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from _hubs import (
    BenchmarkError,
    Hub,
    clean_up,
    end_processes,
    launch_labdeck_hub,
    make_root,
    report_failure,
    stop_hub,
    wait_until_hub_ready,
)
from jobs import MIB, home_of, owner_ids, rss_median, service_pid, vm_rss, write_script
from labdeck.deployments.server import SPEC_ENV, TOKEN_ENV
from labdeck.quota.policy import QuotaPolicy
from spark import SERVICE_API, USER, Labdeck, user_token, wait_for

MODEL = """
def model_fn(model_dir):
    return {"scale": 2.0}

def predict_fn(data, model):
    return {"scores": [x * model["scale"] for x in data["values"]]}
"""
BODY = json.dumps({"values": [1.0, 2.0, 3.0, 4.0]}).encode()
EXPECTED = {"scores": [2.0, 4.0, 6.0, 8.0]}
BLOCK = 100
DEPLOY_TIMEOUT = 120
IDLE_SECONDS_TO_ZERO = 10
READY_POLL = 0.005
PLAIN_TOKEN = secrets.token_urlsafe(32)  # the plain server's, for this run
WAYS = ("plain", "replica", "service", "proxy")


@dataclass
class Way:
    """One way to the model: where to send `POST <path>` and with what authorization."""

    name: str
    host: str
    port: int
    path: str
    authorization: str

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=120)

    def headers(self) -> dict:
        return {"Authorization": self.authorization, "Content-Type": "application/json"}


def call(way: Way, connection: http.client.HTTPConnection) -> tuple[float, int, bytes]:
    """One invocation: (seconds, status, body)."""
    began = time.perf_counter()
    connection.request("POST", way.path, BODY, way.headers())
    response = connection.getresponse()
    body = response.read()
    return time.perf_counter() - began, response.status, body


def checked_call(way: Way, connection: http.client.HTTPConnection) -> float:
    seconds, status, body = call(way, connection)
    if status != 200 or json.loads(body) != EXPECTED:
        raise BenchmarkError(f"{way.name}: answered {status}: {body[:300]!r}")
    return seconds


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


# --- the plain server ------------------------------------------------------------------


def write_model(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inference.py").write_text(MODEL)


def start_plain(root: Path, model_dir: Path, number: int) -> tuple[subprocess.Popen, int, float]:
    """The same model server, directly: (process, port, seconds until its first answer)."""
    ready = root / f"plain-{number}.json"
    ready.unlink(missing_ok=True)
    settings = {"model_dir": str(model_dir), "name": "plain", "ready_file": str(ready)}
    env = {**os.environ, SPEC_ENV: json.dumps(settings), TOKEN_ENV: PLAIN_TOKEN}
    began = time.perf_counter()
    with (root / f"plain-{number}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "labdeck.deployments.server"],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def said() -> dict | None:
        if process.poll() is not None:
            raise BenchmarkError(f"the plain server exited {process.returncode}")
        try:
            return json.loads(ready.read_text())
        except (OSError, ValueError):
            return None

    port = wait_for(said, DEPLOY_TIMEOUT, "the plain server's ready file", READY_POLL)["port"]
    way = plain_way(port)
    connection = way.connect()
    checked_call(way, connection)
    seconds = time.perf_counter() - began
    connection.close()
    return process, port, seconds


def plain_way(port: int) -> Way:
    return Way("plain", "127.0.0.1", port, "/invocations", f"Bearer {PLAIN_TOKEN}")


def stop_plain(process: subprocess.Popen) -> None:
    end_processes([process.pid])
    process.wait(30)


# --- the labdeck side ------------------------------------------------------------------


def deployments_config(count: int) -> str:
    """The hub's default quota, with room for `count` deployments at once."""
    quota = QuotaPolicy().default_quota
    quota["deployments"] = {**quota.get("deployments", {}), "concurrent": count}
    return f"c.QuotaPolicy.default_quota = {quota!r}\n"


def deploy(lab: Labdeck, **body) -> dict:
    response = lab.api("POST", "deployments", json=body)
    if response.status_code != 201:
        raise BenchmarkError(
            f"deploying {body['name']} gave {response.status_code}: {response.text}"
        )
    return response.json()


def deployment(lab: Labdeck, name: str) -> dict:
    response = lab.api("GET", f"deployments/{name}")
    if response.status_code != 200:
        raise BenchmarkError(f"reading {name} gave {response.status_code}: {response.text}")
    return response.json()


def in_service(lab: Labdeck, name: str) -> dict:
    def served() -> dict | None:
        found = deployment(lab, name)
        if found["state"] == "FAILED":
            raise BenchmarkError(f"{name} failed: {found['state_reason']}")
        return found if found["state"] == "IN_SERVICE" else None

    return wait_for(served, DEPLOY_TIMEOUT, f"{name} IN_SERVICE", 0.05)


def backend_state(lab: Labdeck, deployment_id: str) -> dict:
    """Replicas (ports, pids) and replica token, as the service saved them (we are root)."""
    database = sqlite3.connect(lab.state_dir / "service" / "labdeck.sqlite")
    with contextlib.closing(database):
        row = database.execute(
            "SELECT backend_state FROM resources WHERE id = ?", (deployment_id,)
        ).fetchone()
    if row is None or not row[0]:
        raise BenchmarkError(f"no saved state for {deployment_id}")
    return json.loads(row[0])


def service_url(hub: Hub) -> tuple[str, int]:
    """Host and port the service listens on (its JUPYTERHUB_SERVICE_URL)."""
    environ = Path(f"/proc/{service_pid(hub)}/environ").read_bytes().split(b"\0")
    for entry in environ:
        if entry.startswith(b"JUPYTERHUB_SERVICE_URL="):
            url = urlsplit(entry.split(b"=", 1)[1].decode())
            return url.hostname, url.port
    raise BenchmarkError("the service has no JUPYTERHUB_SERVICE_URL")


def endpoint_way(way: str, lab: Labdeck, token: str, name: str) -> Way:
    """`service` or `proxy`: the endpoint `name` of the user's, with their token."""
    if way == "service":
        host, port = service_url(lab.hub)
    else:
        public = urlsplit(lab.hub.url)
        host, port = public.hostname, public.port
    path = f"/{SERVICE_API}endpoints/{USER}/{name}/invocations"
    return Way(way, host, port, path, f"token {token}")


def labdeck_ways(lab: Labdeck, token: str, name: str, deployment_id: str) -> list[Way]:
    state = backend_state(lab, deployment_id)
    (replica,) = state["replicas"]
    return [
        Way("replica", "127.0.0.1", replica["port"], "/invocations", f"Bearer {state['token']}"),
        endpoint_way("service", lab, token, name),
        endpoint_way("proxy", lab, token, name),
    ]


def replica_pids(lab: Labdeck, deployment_id: str) -> list[int]:
    return [r["process"]["pid"] for r in backend_state(lab, deployment_id)["replicas"]]


def model_servers_under(root: Path) -> list[int]:
    """Model servers serving a folder of this run (their environment names it)."""
    found, marker = [], str(root).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if b"labdeck.deployments.server" in cmdline and marker in environ:
                found.append(int(entry.name))
    return found


def delete(lab: Labdeck, name: str, pids: list[int]) -> None:
    response = lab.api("DELETE", f"deployments/{name}")
    if response.status_code != 204:
        raise BenchmarkError(f"deleting {name} gave {response.status_code}: {response.text}")
    left = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    if left:
        raise BenchmarkError(f"{name} answered 204 with model servers left: {left}")


# --- latency and throughput ------------------------------------------------------------


def latency(ways: list[Way], count: int, warmup: int) -> dict:
    connections = {way.name: way.connect() for way in ways}
    for way in ways:
        for _ in range(warmup):
            checked_call(way, connections[way.name])
    times: dict[str, list[float]] = {way.name: [] for way in ways}
    for block in range(math.ceil(count / BLOCK)):
        order = ways if block % 2 == 0 else ways[::-1]
        for way in order:
            for _ in range(min(BLOCK, count - block * BLOCK)):
                times[way.name].append(checked_call(way, connections[way.name]))
    for connection in connections.values():
        connection.close()
    figures = {}
    for name, values in times.items():
        figures[name] = {
            "p50_ms": percentile(values, 50) * 1000,
            "p99_ms": percentile(values, 99) * 1000,
            "mean_ms": statistics.fmean(values) * 1000,
        }
    plain = figures["plain"]
    for found in figures.values():
        found["added_p50_ms"] = found["p50_ms"] - plain["p50_ms"]
        found["added_p99_ms"] = found["p99_ms"] - plain["p99_ms"]
    return figures


def load(way: Way, clients: int, seconds: float) -> dict:
    """`clients` threads sending back to back for `seconds`: answers, errors, elapsed."""
    start = threading.Barrier(clients + 1)
    counts = [[0, 0, ""] for _ in range(clients)]  # answered, errors, last error

    def client(number: int) -> None:
        connection = way.connect()
        checked_call(way, connection)  # connected and warm before the clock starts
        start.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            try:
                _, status, body = call(way, connection)
            except (OSError, http.client.HTTPException) as e:
                counts[number][1] += 1
                counts[number][2] = repr(e)
                connection.close()
                connection = way.connect()
                continue
            if status == 200 and json.loads(body) == EXPECTED:
                counts[number][0] += 1
            else:
                counts[number][1] += 1
                counts[number][2] = f"{status} {body[:200]!r}"
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    errors = [c[2] for c in counts if c[1]]
    return {
        "answered": sum(c[0] for c in counts),
        "errors": sum(c[1] for c in counts),
        "last_error": errors[-1] if errors else None,
        "seconds": elapsed,
    }


def throughput(ways: list[Way], clients: int, seconds: float) -> dict:
    totals = {way.name: {"answered": 0, "errors": 0, "seconds": 0.0} for way in ways}
    for order in (ways, ways[::-1]):
        for way in order:
            got = load(way, clients, seconds / 2)
            for key in ("answered", "errors", "seconds"):
                totals[way.name][key] += got[key]
            if got["last_error"]:
                totals[way.name]["last_error"] = got["last_error"]
    for found in totals.values():
        found["per_second"] = found["answered"] / found["seconds"]
    for found in totals.values():
        found["ratio"] = found["per_second"] / totals["plain"]["per_second"]
    return totals


def gateway_view(lab: Labdeck, name: str) -> dict:
    """The gateway's own split of each invocation: model and overhead ms (means)."""
    points = lab.api("GET", f"deployments/{name}/metrics").json()["points"]
    calls = sum(p["invocations"] for p in points)
    if not calls:
        raise BenchmarkError(f"{name}'s metrics count no invocation")
    return {
        "invocations": calls,
        "model_ms": sum(p["model_latency_ms"] * p["invocations"] for p in points) / calls,
        "overhead_ms": sum(p["overhead_latency_ms"] * p["invocations"] for p in points) / calls,
    }


# --- cold starts -----------------------------------------------------------------------


def cold_starts(lab: Labdeck, token: str, root: Path, model_dir: Path, repeat: int) -> dict:
    created = deploy(
        lab,
        name="lazy",
        model_dir="models/bench",
        mode="serverless",
        idle_seconds_to_zero=IDLE_SECONDS_TO_ZERO,
    )
    in_service(lab, "lazy")
    way = endpoint_way("proxy", lab, token, "lazy")
    figures = {"cold": [], "warm": [], "plain_start": []}
    for number in range(repeat):
        process, _, seconds = start_plain(root, model_dir, number)
        stop_plain(process)
        figures["plain_start"].append(seconds)
        # at zero once the service has saved it with no replica: its API says 0 replicas
        # as soon as the stop begins, and a request then would wait for that stop too
        wait_for(
            lambda: not backend_state(lab, created["id"])["replicas"],
            IDLE_SECONDS_TO_ZERO * 6,
            "lazy to scale to zero",
            0.1,
        )
        connection = way.connect()
        # open the connection through the proxy first, with a request that wakes nothing
        connection.request("GET", f"/{SERVICE_API}deployments/lazy", headers=way.headers())
        connection.getresponse().read()
        figures["cold"].append(checked_call(way, connection))
        figures["warm"].append(statistics.median(checked_call(way, connection) for _ in range(5)))
        connection.close()
        if deployment(lab, "lazy")["replicas_running"] != 1:
            raise BenchmarkError("lazy answered without a replica running")
        print(
            f"  cold start #{number + 1}: first request {figures['cold'][-1]:.3f} s, "
            f"warm {figures['warm'][-1] * 1000:.2f} ms; plain server start {seconds:.3f} s",
            flush=True,
        )
    points = lab.api("GET", "deployments/lazy/metrics").json()["points"]
    cold_starts = sum(p["cold_starts"] for p in points)
    if cold_starts != repeat:
        raise BenchmarkError(f"lazy's metrics count {cold_starts} cold starts, not {repeat}")
    figures["reported_cold_max"] = max(p["cold_start_seconds_max"] for p in points)
    delete(lab, "lazy", replica_pids(lab, created["id"]))
    summary = {key: statistics.median(figures[key]) for key in ("cold", "warm", "plain_start")}
    summary["ratio"] = summary["cold"] / summary["plain_start"]
    return {"values": figures, **summary}


# --- memory ----------------------------------------------------------------------------


def memory(lab: Labdeck, token: str, bench_id: str, plain_pid: int, count: int) -> dict:
    (replica,) = replica_pids(lab, bench_id)
    figures = {"replica_bytes": rss_median(replica), "plain_bytes": rss_median(plain_pid)}
    pid = service_pid(lab.hub)
    figures["service_before_bytes"] = rss_median(pid)
    made = []
    for number in range(count):
        made.append(deploy(lab, name=f"idle-{number}", model_dir="models/bench"))
    for found in made:
        in_service(lab, found["name"])
    for found in made:
        way = endpoint_way("service", lab, token, found["name"])
        connection = way.connect()
        checked_call(way, connection)
        connection.close()
    figures["service_with_bytes"] = rss_median(pid)
    replicas = {found["name"]: replica_pids(lab, found["id"]) for found in made}
    figures["idle_replica_bytes"] = [vm_rss(p) for pids in replicas.values() for p in pids]
    for name, pids in replicas.items():
        delete(lab, name, pids)
    figures["deployments"] = count
    figures["service_per_deployment_bytes"] = (
        figures["service_with_bytes"] - figures["service_before_bytes"]
    ) / count
    return figures


# --- the run ---------------------------------------------------------------------------


def run(args: argparse.Namespace, root: Path, hubs: list[Hub]) -> dict:
    print("starting labdeck hub...", flush=True)
    hubs.append(launch_labdeck_hub(root, deployments_config(args.deployments + 2)))
    wait_until_hub_ready(hubs[0])
    hubs[0].use_token()
    lab = Labdeck(hubs[0])
    token = user_token(hubs[0])
    lab.client.headers["Authorization"] = f"token {token}"
    # refused (no such script), and the user's account and home are made
    if lab.api("POST", "jobs", json={"script": "none.py"}).status_code != 400:
        raise BenchmarkError("the service did not check a missing script")
    folder = home_of(lab, USER) / "models" / "bench"
    folder.mkdir(parents=True)
    for made in (folder.parent, folder):
        os.chown(made, *owner_ids(lab, USER))
    write_script(lab, USER, "models/bench/inference.py", MODEL)
    plain_dir = root / "plain-model"
    write_model(plain_dir)

    print("plain server and realtime deployment...", flush=True)
    plain, port, _ = start_plain(root, plain_dir, 0)
    try:
        bench = deploy(lab, name="bench", model_dir="models/bench")
        in_service(lab, "bench")
        ways = [plain_way(port), *labdeck_ways(lab, token, "bench", bench["id"])]
        print(f"latency: {args.requests} sequential requests per way...", flush=True)
        figures = {"latency": latency(ways, args.requests, args.warmup)}
        figures["gateway_view"] = gateway_view(lab, "bench")
        print(f"throughput: {args.clients} clients, {args.seconds:g} s per way...", flush=True)
        figures["throughput"] = throughput(ways, args.clients, args.seconds)
        print("memory...", flush=True)
        figures["memory"] = memory(lab, token, bench["id"], plain.pid, args.deployments)
    finally:
        stop_plain(plain)
    print(f"cold starts: {args.cold_repeat} (each after {IDLE_SECONDS_TO_ZERO} s idle)...")
    figures["cold_start"] = cold_starts(lab, token, root, plain_dir, args.cold_repeat)
    delete(lab, "bench", replica_pids(lab, bench["id"]))
    return figures


def print_report(figures: dict, args: argparse.Namespace) -> None:
    lat, put = figures["latency"], figures["throughput"]
    print(
        f"\n{'way':9} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'+p50 ms':>8} {'+p99 ms':>8}",
        end="",
    )
    print(f" {'req/s':>8} {'ratio':>6} {'errors':>6}")
    for name in WAYS:
        la, th = lat[name], put[name]
        print(
            f"{name:9} {la['p50_ms']:8.3f} {la['p99_ms']:8.3f} {la['mean_ms']:8.3f} "
            f"{la['added_p50_ms']:8.3f} {la['added_p99_ms']:8.3f} {th['per_second']:8.0f} "
            f"{th['ratio']:6.2f} {th['errors']:6d}"
        )
    view = figures["gateway_view"]
    print(
        f"gateway's own view over {view['invocations']} invocations: model "
        f"{view['model_ms']:.3f} ms, overhead {view['overhead_ms']:.3f} ms (means)"
    )
    cold = figures["cold_start"]
    print(
        f"cold start (median of {args.cold_repeat}): first request {cold['cold']:.3f} s, warm "
        f"{cold['warm'] * 1000:.2f} ms; plain server start to first answer "
        f"{cold['plain_start']:.3f} s; ratio {cold['ratio']:.2f}; the service's own "
        f"figure (max) {cold['values']['reported_cold_max']:.3f} s"
    )
    mem = figures["memory"]
    idle = mem["idle_replica_bytes"]
    print(
        f"memory (VmRSS, MiB): replica {mem['replica_bytes'] / MIB:.1f}, plain server "
        f"{mem['plain_bytes'] / MIB:.1f}; {mem['deployments']} more idle replicas "
        f"{statistics.median(idle) / MIB:.1f} (median, {min(idle) / MIB:.1f}-{max(idle) / MIB:.1f})"
    )
    print(
        f"service {mem['service_before_bytes'] / MIB:.1f} -> "
        f"{mem['service_with_bytes'] / MIB:.1f} with {mem['deployments']} more deployments: "
        f"+{mem['service_per_deployment_bytes'] / MIB:.2f} MiB per deployment"
    )
    print(f"\nadded latency p50 (proxy): {lat['proxy']['added_p50_ms']:.3f} ms  target <= 1 ms")
    print(
        f"throughput ratio (proxy, {args.clients} clients): {put['proxy']['ratio']:.2f}  "
        "target >= 0.7"
    )
    print(f"serverless cold start: {cold['cold']:.3f} s  target <= 1.5 s")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per way")
    parser.add_argument("--warmup", type=int, default=200, help="uncounted requests per way")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10, help="load time per way")
    parser.add_argument("--cold-repeat", type=int, default=3, help="cold starts")
    parser.add_argument("--deployments", type=int, default=4, help="for the service memory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if min(args.requests, args.clients, args.cold_repeat, args.deployments) < 1 or args.warmup < 0:
        parser.error("counts must be at least 1 (--warmup at least 0)")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = make_root("labdeck-deployments-bench-")
    hubs: list[Hub] = []
    try:
        figures = run(args, root, hubs)
    except (BenchmarkError, requests.RequestException, OSError, KeyError, ValueError) as e:
        report_failure("deployments", e, hubs)
        return 1
    finally:
        for hub in hubs:
            stop_hub(hub)
        # replicas run in / (not under root): find any left by their model folder
        end_processes(model_servers_under(root))
        clean_up(root, hubs)
    print_report(figures, args)
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "deployments", **figures}, indent=2))
    errors = sum(way["errors"] for way in figures["throughput"].values())
    if errors:
        print(f"{errors} request(s) failed under load", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
