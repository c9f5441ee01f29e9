"""The inference recommender: load-tests configurations of a deployment and says which
is the cheapest that meets a latency target (as SageMaker Inference Recommender, in
minutes rather than hours).

Each candidate runs on replicas of its own (the live endpoint is not disturbed), started
as the deployment's are, then `clients` callers send the payload to them for
`duration_seconds` from a process of their own (deployments/loadtest.py). Throughput,
p50 and p99 latency, errors and the replicas' memory make one row of the table. The
latest run of each deployment is kept in its folder, so a restart loses no result.
"""

import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Conflict, Invalid
from .models import RUNNING, Resource

if TYPE_CHECKING:
    from .deployments import DeploymentManager

FIELDS = ("payload", "duration_seconds", "candidates", "clients", "latency_target_ms")
MAX_CANDIDATES = 6
MAX_DURATION_SECONDS = 60
# the whole run, load tests only (replicas start on top): a few minutes at most
MAX_TOTAL_SECONDS = 240
MAX_CLIENTS = 64
MAX_WORKERS = 4
RESULT_FILE = "recommendation.json"
# where a candidate's replicas are, while they run (for the service to stop them after a
# crash); never shown: it holds their token
TRIAL_FILE = "recommendation-trial.json"


class RecommendationError(Invalid):
    default_code = "invalid_recommendation"


def _whole(value, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RecommendationError(f"'{field}' must be a whole number from {low} to {high}.")
    return value


def recommendation_request(body: dict, max_replicas: int) -> dict:
    """The run a request body asks for; RecommendationError saying why not."""
    unknown = set(body) - set(FIELDS)
    if unknown:
        raise RecommendationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}. Use {', '.join(FIELDS)}."
        )
    if "payload" not in body:
        raise RecommendationError("Give a 'payload': what to send to the endpoint, as JSON.")
    duration = _whole(body.get("duration_seconds", 10), "duration_seconds", 1, MAX_DURATION_SECONDS)
    candidates = body.get("candidates", [{"replicas": 1}, {"replicas": 2}])
    if not isinstance(candidates, list) or not 1 <= len(candidates) <= MAX_CANDIDATES:
        raise RecommendationError(
            f"'candidates' must be a list of 1 to {MAX_CANDIDATES} "
            '{"replicas", "workers"} objects.'
        )
    clean = []
    for candidate in candidates:
        if not isinstance(candidate, dict) or not set(candidate) <= {"replicas", "workers"}:
            raise RecommendationError('Each candidate is {"replicas": n, "workers": n}.')
        replicas = _whole(candidate.get("replicas", 1), "replicas", 1, max_replicas)
        workers = _whole(candidate.get("workers", 1), "workers", 1, MAX_WORKERS)
        if replicas * workers > max_replicas:
            raise RecommendationError(
                f"A candidate may run at most {max_replicas} model servers "
                "(replicas times workers)."
            )
        clean.append({"replicas": replicas, "workers": workers})
    if duration * len(clean) > MAX_TOTAL_SECONDS:
        raise RecommendationError(
            f"duration_seconds times the number of candidates may be at most {MAX_TOTAL_SECONDS} s."
        )
    target = body.get("latency_target_ms")
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, int | float) or target <= 0
    ):
        raise RecommendationError("'latency_target_ms' must be a positive number of ms.")
    return {
        "payload": body["payload"],
        "duration_seconds": duration,
        "candidates": clean,
        "clients": _whole(body.get("clients", 8), "clients", 1, MAX_CLIENTS),
        "latency_target_ms": target,
    }


def recommend(results: list[dict], target: float | None) -> dict | None:
    """The cheapest configuration (fewest model servers) with no error and its p99
    within the target; without a target, the most throughput per model server."""
    clean = [r for r in results if r["errors"] == 0 and r["requests"] > 0]
    if target is None:
        return max(clean, key=lambda r: r["throughput_rps"] / _servers(r), default=None)
    meeting = [r for r in clean if r["p99_ms"] <= target]
    return min(meeting, key=lambda r: (_servers(r), r["p99_ms"]), default=None)


def _servers(result: dict) -> int:
    return result["replicas"] * result["workers"]


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Recommender:
    """Recommendation runs of every deployment, one at a time each."""

    def __init__(self, manager: "DeploymentManager"):
        self.manager = manager
        self._running: dict[str, asyncio.Task] = {}

    def _file(self, resource: Resource) -> Path:
        return self.manager.work_root / resource.id / RESULT_FILE

    def latest(self, resource: Resource) -> dict | None:
        try:
            run = json.loads(self._file(resource).read_text())
        except (OSError, ValueError):
            return None
        task = self._running.get(resource.id)
        if run.get("state") == "RUNNING" and (task is None or task.done()):
            run["state"] = "FAILED"
            run["reason"] = "Interrupted by a restart of labdeck: run it again."
        return run

    def _record(self, resource: Resource, run: dict, name: str = RESULT_FILE) -> None:
        path = self._file(resource).with_name(name)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(run, f)
        temporary.replace(path)

    def start(self, resource: Resource, body: dict) -> dict:
        """Begin a run (RUNNING); its results come with `latest`."""
        if resource.state != RUNNING:
            raise Conflict(
                f"Deployment {resource.name!r} is {self.manager.api_state(resource)}: "
                "recommendations need it in service.",
                "not_in_service",
            )
        task = self._running.get(resource.id)
        if task is not None and not task.done():
            raise Conflict(
                f"A recommendation for {resource.name!r} is running already.", "recommending"
            )
        request = recommendation_request(body, self.manager.settings.max_replicas)
        run = {
            "id": f"r-{int(time.time())}",
            "state": "RUNNING",
            "reason": None,
            "progress": {"done": 0, "total": len(request["candidates"])},
            "duration_seconds": request["duration_seconds"],
            "clients": request["clients"],
            "latency_target_ms": request["latency_target_ms"],
            "results": [],
            "recommended": None,
        }
        self._record(resource, run)
        self._running[resource.id] = asyncio.create_task(self._run(resource, request, run))
        return run

    async def _run(self, resource: Resource, request: dict, run: dict) -> None:
        try:
            for candidate in request["candidates"]:
                run["results"].append(await self._try(resource, candidate, request))
                run["progress"]["done"] += 1
                self._record(resource, run)
            run["recommended"] = recommend(run["results"], request["latency_target_ms"])
            run["state"] = "COMPLETED"
            if run["recommended"] is None:
                run["reason"] = "No configuration met the latency target without errors."
        except Exception as e:  # a run that cannot finish says why, and keeps what it has
            self.manager.log.warning("Recommendation for %s failed: %s", resource.id, e)
            run["state"], run["reason"] = "FAILED", str(e) or type(e).__name__
        self._record(resource, run)

    async def _try(self, resource: Resource, candidate: dict, request: dict) -> dict:
        """One candidate on replicas of its own: start them, load them, stop them."""
        manager = self.manager
        work_dir = manager.work_root / f"{resource.id}-try"
        backend = manager.backend_class(
            resource,
            manager.supervisor,
            work_dir,
            "",
            parent=manager.settings,
            log=manager.log,
        )
        backend.account = await manager.accounts.account(resource.user)
        backend.spec = {
            **resource.spec,
            "mode": "realtime",
            "replicas": candidate["replicas"] * candidate["workers"],
        }
        trial = self._file(resource).with_name(TRIAL_FILE)

        def save(*_) -> None:  # each replica that starts is recorded before it is used
            self._record(resource, backend.get_state(), TRIAL_FILE)

        try:
            await backend.start(save)
            settings = {
                "ports": [r.port for r in backend.replicas],
                "token": backend.token,
                "payload": request["payload"],
                "clients": request["clients"],
                "duration_seconds": request["duration_seconds"],
            }
            figures = await _load_test(settings)
            memory = sum(_rss(r.process.pid) for r in backend.replicas)
        finally:
            await backend.stop()
            trial.unlink(missing_ok=True)
            shutil.rmtree(work_dir, ignore_errors=True)
        return {**candidate, **figures, "memory_bytes": memory}

    async def recover(self) -> None:
        """After a restart: stop the replicas of runs the service did not finish."""
        for resource in self.manager.owned_by(None):
            trial = self._file(resource).with_name(TRIAL_FILE)
            try:
                state = json.loads(trial.read_text())
            except (OSError, ValueError):
                continue
            backend = self.manager.backend_class(
                resource,
                self.manager.supervisor,
                self.manager.work_root / f"{resource.id}-try",
                "",
                parent=self.manager.settings,
                log=self.manager.log,
            )
            backend.load_state(state)
            await backend.stop()
            trial.unlink(missing_ok=True)
            shutil.rmtree(backend.work_dir, ignore_errors=True)

    async def close(self) -> None:
        """labdeck is stopping: end the runs (their replicas stop)."""
        tasks = [t for t in self._running.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _load_test(settings: dict) -> dict:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "labdeck.deployments.loadtest",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(json.dumps(settings).encode())
    if process.returncode != 0:
        raise RuntimeError(f"The load test failed: {err.decode(errors='replace')[-500:]}")
    return json.loads(out)
