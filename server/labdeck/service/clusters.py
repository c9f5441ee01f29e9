"""Spark clusters of users: the first kind of resource on the shared lifecycle.

What is Spark's own here: the limits of the user's `spark` quota section (its daily
core time counts each running cluster's cores), idle auto-termination (a running
statement or application counts as activity) and the Livy sessions that end with their
cluster. Everything else, the budget's timer included, is `ResourceManager`'s.
"""

from dataclasses import dataclass

from jupyterhub.traitlets import EntryPointType
from traitlets import Int

from ..capabilities import SPARK
from ..spark.backend import SparkBackend
from ..spark.local import LocalSparkBackend
from ..spark.spec import ClusterSpec
from .errors import Invalid
from .models import Resource
from .resources import ResourceManager, ResourceSettings


class SparkClusters(ResourceSettings):
    """Settings of Spark clusters."""

    min_idle_timeout_seconds = Int(
        60, help="Shortest idle auto-termination a user may ask for (EMR: 60 s)."
    ).tag(config=True)

    max_sessions_per_cluster = Int(
        8,
        help="""Most Livy sessions (each a Spark driver of ~0.5 GB) live at once on one
        cluster; one more is refused until one ends.""",
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
    secret: str | None  # Spark's RPC secret, given to drivers in their environment


class ClusterManager(ResourceManager):
    """Clusters of all users; limits come from each user's quota (`spark` section)."""

    kind = SPARK.ledger_kind
    id_prefix = "c-"
    noun = "cluster"
    budget_title = "Spark"
    quota = SPARK.quota

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.livy = None  # set by the app: sessions count as activity and end with a cluster
        self.batches = None  # set by the app: so do Livy batches

    @staticmethod
    def spec(resource: Resource) -> ClusterSpec:
        return ClusterSpec(**resource.spec)

    # -- the kind's rules -----------------------------------------------------------------
    def ledger_profile(self, resource: Resource) -> str:
        return SPARK.quota.name

    def ledger_cores(self, resource: Resource) -> int:
        return self.spec(resource).cores

    def amounts(self, spec: dict) -> dict:
        spec = ClusterSpec(**spec)
        return {
            "clusters": 1,
            "workers": spec.workers,
            "cores": spec.cores,
            "memory_bytes": spec.memory,
        }

    def start_steps(self, resource: Resource) -> int:
        return self.spec(resource).workers + 1

    def idle_seconds(self, resource: Resource) -> int:
        return self.spec(resource).idle_timeout_seconds

    async def before_stop(self, resource: Resource, reason: str) -> None:
        if self.livy is not None:
            await self.livy.stop_all(resource.id, reason)
        if self.batches is not None:
            await self.batches.stop_all(resource.id, reason)

    async def check(self) -> None:
        """Also end Livy sessions whose client stopped sending heartbeats."""
        if self.livy is not None:
            await self.livy.sweep_abandoned()
        await super().check()

    async def busy(self, resource: Resource) -> bool:
        """A statement or a batch runs, or an application other than labdeck's sessions
        runs."""
        if self.livy is not None and await self.livy.busy(resource.id):
            return True
        if self.batches is not None and self.batches.running(resource.id):
            return True
        backend = self.backend(resource)
        ours = self.livy.app_ids(resource.id) if self.livy is not None else set()
        return bool(backend.application_ids(await backend.status()) - ours)

    # -- what users ask -------------------------------------------------------------------
    def create_cluster(self, user: str, spec: ClusterSpec, limits: dict) -> Resource:
        if spec.idle_timeout_seconds < self.settings.min_idle_timeout_seconds:
            raise Invalid(
                "'idle_timeout_seconds' must be at least "
                f"{self.settings.min_idle_timeout_seconds}.",
                "invalid_cluster",
            )
        stored = {**spec.to_json(), "worker_memory": spec.worker_memory}
        self.check_limits(user, stored, limits)
        return self.create(user, spec.name, stored)

    def endpoint(self, resource: Resource) -> SparkEndpoint:
        backend = self.backend(resource)
        return SparkEndpoint(backend.master_url, backend.ui_path, backend.webui_url, backend.secret)

    async def ui_access(self, resource: Resource) -> tuple[str, dict[str, str]]:
        """The master's web UI and the headers that let labdeck's proxy in (OSError when
        what listens there is not the cluster's master)."""
        return await self.backend(resource).ui_access()

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
