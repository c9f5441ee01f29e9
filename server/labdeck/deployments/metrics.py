"""Invocation metrics of an endpoint, per minute, as SageMaker's CloudWatch metrics:
invocations, 4xx and 5xx answers, model latency (in the model server) and overhead
latency (the gateway's share), cold starts and their duration, replicas.

Kept in memory by the gateway for the last day (and saved by it now and then, so a
restart keeps them); `series` is what the API returns.
"""

from collections import OrderedDict
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

KEEP_MINUTES = 24 * 60


@dataclass
class Minute:
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_latency_ms_sum: float = 0.0
    model_latency_ms_max: float = 0.0
    overhead_latency_ms_sum: float = 0.0
    overhead_latency_ms_max: float = 0.0
    cold_starts: int = 0
    cold_start_seconds_max: float = 0.0
    replicas: int = 0

    def to_json(self, minute: int) -> dict:
        timed = max(self.invocations, 1)
        return {
            "time": datetime.fromtimestamp(minute * 60, UTC).isoformat(),
            "invocations": self.invocations,
            "errors_4xx": self.errors_4xx,
            "errors_5xx": self.errors_5xx,
            "model_latency_ms": round(self.model_latency_ms_sum / timed, 3),
            "model_latency_ms_max": round(self.model_latency_ms_max, 3),
            "overhead_latency_ms": round(self.overhead_latency_ms_sum / timed, 3),
            "overhead_latency_ms_max": round(self.overhead_latency_ms_max, 3),
            "cold_starts": self.cold_starts,
            "cold_start_seconds_max": round(self.cold_start_seconds_max, 3),
            "replicas": self.replicas,
        }


class EndpointMetrics:
    """The per-minute counters of one endpoint."""

    def __init__(self):
        self.minutes: OrderedDict[int, Minute] = OrderedDict()
        self.changed = False  # since it was last saved

    def to_json(self) -> dict:
        return {str(key): asdict(minute) for key, minute in self.minutes.items()}

    @classmethod
    def from_json(cls, data: dict) -> "EndpointMetrics":
        """Counters saved by to_json (unknown or bad entries are left out)."""
        metrics = cls()
        known = {f.name for f in fields(Minute)}
        for key, values in sorted(data.items(), key=lambda item: int(item[0])):
            if isinstance(values, dict):
                metrics.minutes[int(key)] = Minute(
                    **{k: v for k, v in values.items() if k in known}
                )
        return metrics

    def _now(self, at: float, replicas: int) -> Minute:
        self.changed = True
        key = int(at // 60)
        minute = self.minutes.get(key)
        if minute is None:
            minute = self.minutes[key] = Minute(replicas=replicas)
            while len(self.minutes) > KEEP_MINUTES:
                self.minutes.popitem(last=False)
        minute.replicas = max(minute.replicas, replicas)
        return minute

    def invocation(
        self, at: float, status: int, model_ms: float, overhead_ms: float, replicas: int
    ) -> None:
        minute = self._now(at, replicas)
        minute.invocations += 1
        if 400 <= status < 500:
            minute.errors_4xx += 1
        elif status >= 500:
            minute.errors_5xx += 1
        minute.model_latency_ms_sum += model_ms
        minute.model_latency_ms_max = max(minute.model_latency_ms_max, model_ms)
        minute.overhead_latency_ms_sum += overhead_ms
        minute.overhead_latency_ms_max = max(minute.overhead_latency_ms_max, overhead_ms)

    def cold_start(self, at: float, seconds: float, replicas: int) -> None:
        minute = self._now(at, replicas)
        minute.cold_starts += 1
        minute.cold_start_seconds_max = max(minute.cold_start_seconds_max, seconds)

    def replicas(self, at: float, replicas: int) -> None:
        self._now(at, replicas).replicas = replicas

    def series(self, since: float = 0.0) -> list[dict]:
        first = int(since // 60)
        return [m.to_json(key) for key, m in self.minutes.items() if key >= first]
