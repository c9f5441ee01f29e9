"""Spark clusters of users: the first kind of resource on the shared lifecycle.

What is Spark's own here: the limits of the user's `spark` quota section, idle
auto-termination (a running statement or application counts as activity) and the Livy
sessions that end with their cluster. Everything else is `ResourceManager`'s.
"""

from dataclasses import dataclass

from jupyterhub.traitlets import EntryPointType
from traitlets import Int

from ..spark.local import LocalSparkBackend, SparkBackend
from ..spark.quota import SPARK_QUOTA
from ..spark.spec import ClusterSpec, spark_memory
from .errors import Invalid, Refused
from .models import Resource
from .resources import ResourceManager, ResourceSettings


class SparkClusters(ResourceSettings):
    """Settings of Spark clusters."""

    min_idle_timeout_seconds = Int(
        60, help="Shortest idle auto-termination a user may ask for (EMR: 60 s)."
    ).tag(config=True)

    backend_class = EntryPointType(
        default_value=LocalSparkBackend,
        klass=SparkBackend,
        entry_point_group="labdeck.spark_backends",
        help="""What runs clusters: `local` (a standalone master and workers as local
        processes), another registered backend's name, or an import string.""",
    ).tag(config=True)


@dataclass(frozen=True)
class SparkEndpoint:
    """Where a running cluster is, for the drivers the Livy gateway starts on it."""

    master_url: str
    # where labdeck serves the master's UI (Spark's reverse proxy base), and where it is
    ui_path: str
    webui_url: str


def cluster_amounts(spec: ClusterSpec) -> dict:
    """What a cluster counts against the `spark` quota section."""
    return {
        "clusters": 1,
        "workers": spec.workers,
        "cores": spec.cores,
        "memory_bytes": spec.memory,
    }


class ClusterManager(ResourceManager):
    """Clusters of all users; limits come from each user's quota (`spark` section)."""

    kind = "cluster"
    id_prefix = "c-"
    noun = "cluster"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.livy = None  # set by the app: sessions count as activity and end with a cluster

    @staticmethod
    def spec(resource: Resource) -> ClusterSpec:
        return ClusterSpec(**resource.spec)

    # -- the kind's rules -----------------------------------------------------------------
    def ledger_profile(self, resource: Resource) -> str:
        return SPARK_QUOTA.name

    def ledger_cores(self, resource: Resource) -> int:
        return self.spec(resource).cores

    def start_steps(self, resource: Resource) -> int:
        return self.spec(resource).workers + 1

    def idle_seconds(self, resource: Resource) -> int:
        return self.spec(resource).idle_timeout_seconds

    async def before_stop(self, resource: Resource, reason: str) -> None:
        if self.livy is not None:
            await self.livy.stop_all(resource.id, reason)

    async def check(self) -> None:
        """Also end Livy sessions whose client stopped sending heartbeats."""
        if self.livy is not None:
            await self.livy.sweep_abandoned()
        await super().check()

    async def busy(self, resource: Resource) -> bool:
        """A statement runs, or an application other than labdeck's sessions runs."""
        if self.livy is not None and await self.livy.busy(resource.id):
            return True
        backend = self.backend(resource)
        ours = self.livy.app_ids(resource.id) if self.livy is not None else set()
        return bool(backend.application_ids(await backend.status()) - ours)

    # -- what users ask -------------------------------------------------------------------
    def in_use(self, user: str) -> dict:
        """Totals over the user's live clusters, in the quota section's fields."""
        used = dict.fromkeys(SPARK_QUOTA.fields, 0)
        for resource in self.live(user):
            for key, amount in cluster_amounts(self.spec(resource)).items():
                used[key] += amount
        return used

    def create_cluster(self, user: str, spec: ClusterSpec, limits: dict) -> Resource:
        if spec.idle_timeout_seconds < self.settings.min_idle_timeout_seconds:
            raise Invalid(
                "'idle_timeout_seconds' must be at least "
                f"{self.settings.min_idle_timeout_seconds}.",
                "invalid_cluster",
            )
        self._check_limits(user, spec, limits)
        return self.create(user, spec.name, {**spec.to_json(), "worker_memory": spec.worker_memory})

    def _check_limits(self, user: str, spec: ClusterSpec, limits: dict) -> None:
        over = SPARK_QUOTA.refusal(limits, self.in_use(user), cluster_amounts(spec))
        if over is None:
            return
        field, asked, used, limit = over
        show = spark_memory if field in SPARK_QUOTA.byte_fields else str
        noun = SPARK_QUOTA.fields[field]
        raise Refused(
            f"Not started: this cluster needs {show(asked)} {noun} and you have "
            f"{show(used)} of your {show(limit)} in use. Terminate a cluster or ask for less.",
            "spark_limit",
        )

    def endpoint(self, resource: Resource) -> SparkEndpoint:
        backend = self.backend(resource)
        return SparkEndpoint(backend.master_url, backend.ui_path, backend.webui_url)

    async def detail(self, resource: Resource) -> dict:
        """Workers, cores, memory and applications of a running cluster."""
        status = await self.backend(resource).status()
        workers = [w for w in status.get("workers", []) if w.get("state") == "ALIVE"]
        return {
            "workers_alive": len(workers),
            "cores": sum(w.get("cores", 0) for w in workers),
            "cores_used": sum(w.get("coresused", 0) for w in workers),
            "memory_mb": sum(w.get("memory", 0) for w in workers),
            "applications": [
                {"id": a.get("id"), "name": a.get("name"), "cores": a.get("cores")}
                for a in status.get("activeapps", [])
            ],
        }
