"""The gateway in front of every deployment's replicas: what happens to a request to an
endpoint once its caller may call it.

It keeps the endpoint's concurrency limit (429 beyond it), wakes a serverless endpoint
at zero and holds the request through the cold start, sends the request to the next
replica with the replica token, counts the invocation's metrics, and scales a serverless
endpoint to zero once it has been idle long enough (`sweep`, from the manager's watch).
The hot path touches no database: in-flight counts, last requests and metrics are kept
in memory.
"""

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..deployments.local import Replica
from ..deployments.metrics import EndpointMetrics
from .errors import Busy, Unavailable
from .models import RUNNING, Resource
from .replica_client import ReplicaClient, ReplicaError

if TYPE_CHECKING:
    from .deployments import DeploymentManager

RETRY_AFTER_SECONDS = Busy.retry_after
# how often metrics are saved: a crash loses at most this much of them
SAVE_SECONDS = 30.0
METRICS_FILE = "metrics.json"
# longest one model call may take
REQUEST_TIMEOUT_SECONDS = 60.0
# what passes between caller and model server (the Open Inference Protocol's binary
# tensors say where their JSON header ends)
PASSED_REQUEST_HEADERS = (
    "Content-Type",
    "Accept",
    "Content-Encoding",
    "Inference-Header-Content-Length",
)
PASSED_RESPONSE_HEADERS = ("Content-Type", "Content-Encoding", "Inference-Header-Content-Length")


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Traffic:
    """What the gateway knows of one endpoint's requests."""

    in_flight: int = 0
    last_request: float = field(default_factory=time.monotonic)
    metrics: EndpointMetrics = field(default_factory=EndpointMetrics)
    warming: asyncio.Task | None = None


class EndpointGateway:
    def __init__(self, manager: "DeploymentManager", cold_start_timeout: float):
        self.manager = manager
        self.cold_start_timeout = cold_start_timeout
        self.traffic: dict[str, Traffic] = {}
        self._saved = time.monotonic()
        self.client = ReplicaClient()

    def of(self, resource: Resource) -> Traffic:
        traffic = self.traffic.get(resource.id)
        if traffic is None:
            traffic = self.traffic[resource.id] = Traffic(metrics=self._load(resource.id))
        return traffic

    def _metrics_file(self, resource_id: str) -> Path:
        return self.manager.work_root / resource_id / METRICS_FILE

    def _load(self, resource_id: str) -> EndpointMetrics:
        try:
            return EndpointMetrics.from_json(
                json.loads(self._metrics_file(resource_id).read_text())
            )
        except (OSError, ValueError, TypeError):
            return EndpointMetrics()

    def save(self) -> None:
        """Write the metrics that changed since they were last written (the service's
        own files, 0600)."""
        for resource_id, traffic in list(self.traffic.items()):
            if not traffic.metrics.changed:
                continue
            path = self._metrics_file(resource_id)
            if not path.parent.is_dir():
                continue  # deleted meanwhile
            temporary = path.with_suffix(".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(traffic.metrics.to_json(), f)
            temporary.replace(path)
            traffic.metrics.changed = False

    async def call(
        self, resource: Resource, method: str, path: str, body: bytes | None, headers: dict
    ) -> Answer:
        """Send one request to a replica of the endpoint; its answer."""
        if resource.state != RUNNING:
            raise Unavailable(
                f"Deployment {resource.name!r} is {self.manager.api_state(resource)}: it "
                "answers once it is in service."
            )
        traffic = self.of(resource)
        limit = resource.spec["max_concurrency"]
        if traffic.in_flight >= limit:
            raise Busy(
                f"Deployment {resource.name!r} is answering {limit} request(s), its "
                f"max_concurrency: try again in {RETRY_AFTER_SECONDS} s."
            )
        traffic.in_flight += 1
        traffic.last_request = time.monotonic()
        started = time.perf_counter()
        try:
            replica = await self._replica(resource, traffic)
            token = self.manager.backend(resource).token
            answer = await self._forward(replica, token, method, path, body, headers)
        finally:
            traffic.in_flight -= 1
            traffic.last_request = time.monotonic()
        total_ms = (time.perf_counter() - started) * 1000
        model_ms = _model_ms(answer.headers.pop("X-Model-Latency-Ms", None), total_ms)
        replicas = len(self.manager.backend(resource).replicas)
        traffic.metrics.invocation(
            time.time(), answer.status, model_ms, max(total_ms - model_ms, 0.0), replicas
        )
        return answer

    async def _replica(self, resource: Resource, traffic: Traffic) -> Replica:
        backend = self.manager.backend(resource)
        replica = backend.pick()
        if replica is not None:
            return replica
        # serverless at zero: every caller waits for the same cold start
        if traffic.warming is None or traffic.warming.done():
            traffic.warming = asyncio.create_task(self._cold_start(resource, traffic))
        try:
            await asyncio.wait_for(asyncio.shield(traffic.warming), self.cold_start_timeout)
        except TimeoutError as e:
            raise Unavailable(
                f"Deployment {resource.name!r} did not start in "
                f"{self.cold_start_timeout:.0f} s: try again."
            ) from e
        replica = backend.pick()
        if replica is None:
            raise Unavailable(f"Deployment {resource.name!r} has no replica running.")
        return replica

    async def _cold_start(self, resource: Resource, traffic: Traffic) -> None:
        started = time.perf_counter()
        await self.manager.scale_to(resource, 1)
        traffic.metrics.cold_start(time.time(), time.perf_counter() - started, 1)

    async def _forward(
        self,
        replica: Replica,
        token: str,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict,
    ) -> Answer:
        sent = {name: headers[name] for name in PASSED_REQUEST_HEADERS if name in headers}
        sent["Authorization"] = f"Bearer {token}"
        replica.in_flight += 1
        try:
            response = await self.client.request(
                replica.port,
                method,
                path,
                sent,
                body if method == "POST" else b"",
                REQUEST_TIMEOUT_SECONDS,
            )
        except ReplicaError as e:
            return Answer(
                502, _error("replica_unreachable", f"The model server did not answer: {e}")
            )
        finally:
            replica.in_flight -= 1
        passed = {}
        for name in (*PASSED_RESPONSE_HEADERS, "X-Model-Latency-Ms"):
            value = response.header(name)
            if value is not None:
                passed[name] = value
        return Answer(response.status, response.body, passed)

    async def sweep(self) -> None:
        """Scale serverless endpoints that have been idle long enough to zero; save the
        metrics every SAVE_SECONDS."""
        now = time.monotonic()
        if now - self._saved >= SAVE_SECONDS:
            self._saved = now
            self.save()
        for resource in self.manager.owned_by(None, (RUNNING,)):
            idle = resource.spec.get("idle_seconds_to_zero")
            traffic = self.of(resource)
            if (
                resource.spec.get("mode") == "serverless"
                and idle is not None
                and traffic.in_flight == 0
                and now - traffic.last_request >= idle
                and self.manager.backend(resource).replicas
            ):
                await self.manager.scale_to(resource, 0)
                traffic.metrics.replicas(time.time(), 0)

    def forget(self, resource_id: str) -> None:
        self.traffic.pop(resource_id, None)


def _model_ms(header: str | None, total_ms: float) -> float:
    try:
        return min(max(float(header), 0.0), total_ms) if header is not None else 0.0
    except ValueError:
        return 0.0


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": code, "message": message}).encode()
