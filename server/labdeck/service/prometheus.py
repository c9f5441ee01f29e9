"""The service's Prometheus metrics, served at /services/labdeck/metrics next to the
hub's /hub/metrics (handlers/prometheus.py).

What runs now (sessions per profile, the GPU pool, resources per state) is read from
the ledger, the resources table and the GPU pool when Prometheus scrapes, so it is
true after a restart and costs nothing between scrapes. What happens (ledger writes,
how late deadline stops land) is counted as it happens, by the ledger.

The registry is the service's own, not prometheus_client's global one: two services in
one process (tests) never clash, and nothing else a library registers leaks out.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select

from .._version import __version__
from .db import Database
from .gpus import GPUPool
from .models import LIVE_STATES, STATES, TERMINATED, LedgerEntry, Resource

if TYPE_CHECKING:
    from ..quota.profiles import RuntimeProfiles
    from .resources import ResourceManager

PREFIX = "labdeck"
# what the ledger writes (labdeck_ledger_writes_total{action}); every one starts at 0
LEDGER_ACTIONS = ("open", "close", "stop_reason", "deadline", "heartbeat")
# a deadline stop is due within a timer tick and lands once the processes are gone
# (the hub stops a lab in about a second): seconds, up to minutes when something is wrong
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# per kind of resource: its metric, its help, and every state its API names (each is
# exported, 0 when none is in it, so a series never vanishes)
RESOURCE_METRICS = {
    "cluster": (
        f"{PREFIX}_clusters",
        "Spark clusters per state (ended ones included).",
        STATES,
    ),
    "job": (
        f"{PREFIX}_jobs",
        "Training jobs per state, as the jobs API names them (ended ones included).",
        ("PENDING", "RUNNING", "STOPPING", "COMPLETED", "STOPPED", "FAILED"),
    ),
    "deployment": (
        f"{PREFIX}_deployments",
        "Model deployments per state, as the deployments API names them (ended ones included).",
        ("CREATING", "IN_SERVICE", "UPDATING", "DELETING", "STOPPED", "FAILED"),
    ),
}


class ServiceMetrics:
    """The service's registry and the instruments other modules feed."""

    def __init__(self, kinds: Iterable[str] = (), version: str = __version__):
        self.registry = CollectorRegistry()
        self.ledger_writes = Counter(
            "ledger_writes",
            "Writes to the usage ledger, per kind of entry and what was written "
            "(open, close, stop_reason, deadline, heartbeat: one per entry touched).",
            ["kind", "action"],
            namespace=PREFIX,
            registry=self.registry,
        )
        self.enforcement_lag = Histogram(
            "enforcement_lag_seconds",
            "How long after its deadline a stop for that deadline ended what it stopped "
            "(session_limit, daily_budget, idle), per kind of ledger entry.",
            ["kind", "reason"],
            buckets=LAG_BUCKETS,
            namespace=PREFIX,
            registry=self.registry,
        )
        Info("labdeck", "The labdeck version serving these metrics.", registry=self.registry).info(
            {"version": version}
        )
        for kind in kinds:
            for action in LEDGER_ACTIONS:
                self.ledger_writes.labels(kind, action)

    def ledger_write(self, kind: str, action: str, count: int = 1) -> None:
        self.ledger_writes.labels(kind, action).inc(count)

    def enforced(self, kind: str, reason: str, deadline: datetime, ended: datetime) -> None:
        """A stop for a deadline ended at `ended` (a timer firing a hair early counts 0)."""
        lag = max((ended - deadline).total_seconds(), 0.0)
        self.enforcement_lag.labels(kind, reason).observe(lag)

    def watch(self, collector: Collector) -> None:
        """Add what is read at scrape time."""
        self.registry.register(collector)

    def exposition(self) -> bytes:
        """Every metric, in Prometheus' text format."""
        return generate_latest(self.registry)


class StateCollector(Collector):
    """Sessions, GPUs and resources as they are when Prometheus scrapes: a few GROUP BY
    queries on indexed columns and the GPU pool's memory."""

    def __init__(
        self,
        db: Database,
        profiles: "RuntimeProfiles",
        gpus: GPUPool,
        managers: Iterable["ResourceManager"],
    ):
        self.db = db
        self.profiles = profiles
        self.gpus = gpus
        self.managers = {manager.kind: manager for manager in managers}

    def describe(self) -> list[Metric]:
        # names only: registering must not query the database
        return list(self._families())

    def collect(self) -> Iterable[Metric]:
        sessions = self._sessions()
        resources = self._resources()
        return self._families(sessions, resources)

    def _families(
        self,
        sessions: Mapping[str, int] | None = None,
        resources: Mapping[str, Mapping[str, int]] | None = None,
    ) -> Iterable[Metric]:
        counting = sessions is not None
        running = GaugeMetricFamily(
            f"{PREFIX}_sessions_running",
            "Lab sessions running now, per runtime profile.",
            labels=["profile"],
        )
        if counting:
            for profile in dict.fromkeys([*self.profiles.names(), *sessions]):
                running.add_metric([profile], sessions.get(profile, 0))
        yield running
        gpu_values = (
            (len(self.gpus.ids), len(self.gpus.owner), len(self.gpus.queue))
            if counting
            else (None, None, None)
        )
        for name, text, value in zip(
            ("gpus_total", "gpus_in_use", "gpu_queue_length"),
            (
                "GPUs labdeck hands out.",
                "GPUs held by a lab session or a training job.",
                "Lab sessions and training jobs waiting for a GPU.",
            ),
            gpu_values,
            strict=True,
        ):
            yield GaugeMetricFamily(f"{PREFIX}_{name}", text, value=value)
        for kind, (name, text, states) in RESOURCE_METRICS.items():
            family = GaugeMetricFamily(name, text, labels=["state"])
            if counting:
                counts = resources.get(kind, {})
                for state in dict.fromkeys([*states, *counts]):
                    family.add_metric([state], counts.get(state, 0))
            yield family

    def _sessions(self) -> dict[str, int]:
        query = (
            select(LedgerEntry.profile, func.count())
            .where(LedgerEntry.kind == "session", LedgerEntry.ended.is_(None))
            .group_by(LedgerEntry.profile)
        )
        with self.db.session() as db:
            return dict(db.execute(query).all())

    def _resources(self) -> dict[str, dict[str, int]]:
        """Resources per kind and state, each state named as its manager's API names it
        (which may depend on the reason a resource ended, or on what it does now)."""
        live = select(Resource.id, Resource.kind, Resource.state, Resource.state_reason).where(
            Resource.state.in_(LIVE_STATES)
        )
        # ended ones are grouped: only TERMINATED ones' reasons can tell their API states
        # apart (a job COMPLETED or STOPPED), and those are a few fixed sentences
        why = case(
            (Resource.state == TERMINATED, func.coalesce(Resource.state_reason, "")), else_=""
        )
        ended = (
            select(Resource.kind, Resource.state, why, func.count())
            .where(Resource.state.not_in(LIVE_STATES))
            .group_by(Resource.kind, Resource.state, why)
        )
        counts: dict[str, dict[str, int]] = {}
        with self.db.session() as db:
            rows = [(id, kind, state, why, 1) for id, kind, state, why in db.execute(live)]
            rows += [("", kind, state, why, n) for kind, state, why, n in db.execute(ended)]
        for id, kind, state, why, n in rows:
            named = self._api_state(Resource(id=id, kind=kind, state=state, state_reason=why))
            per_state = counts.setdefault(kind, {})
            per_state[named] = per_state.get(named, 0) + n
        return counts

    def _api_state(self, resource: Resource) -> str:
        manager = self.managers.get(resource.kind)
        api_state = getattr(manager, "api_state", None)
        return api_state(resource) if api_state else resource.state
