"""Spark clusters of users: limits, lifecycle, idle auto-termination, ledger, re-adoption.

States: STARTING -> RUNNING -> TERMINATING -> TERMINATED, or FAILED with a reason.
"""

import asyncio
import contextlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from traitlets import Float, Int
from traitlets.config import Configurable

from ..quota.usage import human_duration
from ..spark.local import LocalSparkBackend, RunningCluster, StartError
from ..spark.spec import ClusterSpec, spark_memory
from .errors import APIError
from .models import Cluster, Session, utcnow

LIVE_STATES = ("STARTING", "RUNNING", "TERMINATING")


class SparkClusters(Configurable):
    """Settings of Spark clusters."""

    check_interval_seconds = Float(
        5.0, help="How often clusters are checked for idleness and lost processes."
    ).tag(config=True)

    min_idle_timeout_seconds = Int(
        60, help="Shortest idle auto-termination a user may ask for (EMR: 60 s)."
    ).tag(config=True)


class ClusterManager:
    """Clusters of all users; limits come from each user's quota (`spark` section)."""

    def __init__(self, db, backend: LocalSparkBackend, config: SparkClusters, log):
        self.db = db
        self.backend = backend
        self.config = config
        self.log = log
        self.livy = None  # set by the app: sessions count as activity
        self._starting: dict[str, asyncio.Task] = {}
        self._checker: asyncio.Task | None = None

    # -- queries --------------------------------------------------------------------------
    def get(self, cluster_id: str) -> Cluster | None:
        with self.db.session() as db:
            return db.get(Cluster, cluster_id)

    def owned_by(self, user: str | None) -> list[Cluster]:
        """Clusters of user, newest first (everyone's for None)."""
        query = select(Cluster).order_by(Cluster.created.desc())
        if user is not None:
            query = query.where(Cluster.user == user)
        with self.db.session() as db:
            return list(db.scalars(query))

    def live(self, user: str) -> list[Cluster]:
        with self.db.session() as db:
            return list(
                db.scalars(
                    select(Cluster).where(Cluster.user == user, Cluster.state.in_(LIVE_STATES))
                )
            )

    @staticmethod
    def running(cluster: Cluster) -> RunningCluster:
        return RunningCluster(cluster.master_port, cluster.webui_port, list(cluster.pids))

    # -- create ---------------------------------------------------------------------------
    def create(self, user: str, spec: ClusterSpec, limits: dict) -> Cluster:
        if spec.idle_timeout_seconds < self.config.min_idle_timeout_seconds:
            raise APIError(
                400,
                "invalid_cluster",
                f"'idle_timeout_seconds' must be at least {self.config.min_idle_timeout_seconds}.",
            )
        self._check(user, spec, limits)
        cluster = Cluster(
            id="c-" + secrets.token_hex(4),
            user=user,
            name=spec.name,
            spec={**spec.to_json(), "worker_memory": spec.worker_memory},
            state="STARTING",
            progress={"step": "Queued", "done": 0, "total": spec.workers + 1},
            pids=[],
        )
        with self.db.session() as db:
            db.add(cluster)
        task = asyncio.create_task(self._start(cluster.id, spec))
        self._starting[cluster.id] = task
        task.add_done_callback(lambda _: self._starting.pop(cluster.id, None))
        return cluster

    def _check(self, user: str, spec: ClusterSpec, limits: dict) -> None:
        live = self.live(user)
        used = {
            "clusters": len(live),
            "workers": sum(c.spec["workers"] for c in live),
            "cores": sum(c.spec["workers"] * c.spec["worker_cores"] for c in live),
            "memory_bytes": sum(c.spec["workers"] * c.spec["worker_memory"] for c in live),
        }
        asked = {
            "clusters": 1,
            "workers": spec.workers,
            "cores": spec.cores,
            "memory_bytes": spec.memory,
        }
        for key, amount in asked.items():
            limit = limits.get(key)
            if limit is None or used[key] + amount <= limit:
                continue
            show = spark_memory if key == "memory_bytes" else str
            noun = "memory" if key == "memory_bytes" else key
            raise APIError(
                403,
                "spark_limit",
                f"Not started: this cluster needs {show(amount)} {noun} and you have "
                f"{show(used[key])} of your {show(limit)} in use. Terminate a cluster "
                "or ask for less.",
            )

    async def _start(self, cluster_id: str, spec: ClusterSpec) -> None:
        running = self.backend.prepare()
        with self.db.session() as db:
            row = db.get(Cluster, cluster_id)
            row.master_port, row.webui_port = running.master_port, running.webui_port

        def progress(step: str, done: int, total: int) -> None:
            with self.db.session() as db:
                row = db.get(Cluster, cluster_id)
                row.progress = {"step": step, "done": done, "total": total}
                row.pids = list(running.pids)  # saved as they start: nothing is orphaned

        try:
            await self.backend.start(cluster_id, spec, running, progress)
        except asyncio.CancelledError:
            # terminated while starting: stop what did start, then let terminate() record it
            await self.backend.terminate(cluster_id, list(running.pids))
            raise
        except (StartError, OSError) as e:
            self.log.warning("Cluster %s failed to start: %s", cluster_id, e)
            await self.backend.terminate(cluster_id, list(running.pids))
            self._finish(cluster_id, "FAILED", str(e))
            return
        now = utcnow()
        with self.db.session() as db:
            row = db.get(Cluster, cluster_id)
            row.pids = list(running.pids)
            if row.state != "STARTING":
                return  # terminate() was asked meanwhile and takes it from here
            row.state, row.started, row.last_activity = "RUNNING", now, now
            row.progress = {"step": "Running", "done": spec.workers + 1, "total": spec.workers + 1}
            ledger = Session(
                kind="cluster",
                user=row.user,
                profile="spark",
                gpus=[],
                started=now,
                last_seen=now,
                resource_id=cluster_id,
                cores=spec.cores,
            )
            db.add(ledger)
            db.flush()
            row.ledger_id = ledger.id
        self.log.info("Cluster %s is running", cluster_id)

    # -- terminate ------------------------------------------------------------------------
    async def terminate(self, cluster_id: str, reason: str, state: str = "TERMINATED") -> None:
        """Stop Livy sessions, workers and master; record why; close the ledger entry."""
        with self.db.session() as db:
            row = db.get(Cluster, cluster_id)
            if row is None or row.state in ("TERMINATED", "FAILED"):
                return
            row.state, row.state_reason = "TERMINATING", reason
        if self.livy is not None:
            try:
                await self.livy.stop_all(cluster_id, reason)
            except Exception:
                # sessions' drivers die with the master anyway; never keep the JVMs
                self.log.exception("Stopping the sessions of %s failed", cluster_id)
        starting = self._starting.get(cluster_id)
        if starting is not None:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        await self.backend.terminate(cluster_id, list(self.get(cluster_id).pids))
        self._finish(cluster_id, state, reason)

    def _finish(self, cluster_id: str, state: str, reason: str) -> None:
        now = utcnow()
        with self.db.session() as db:
            row = db.get(Cluster, cluster_id)
            row.state, row.state_reason, row.ended = state, reason, now
            if row.ledger_id is not None:
                ledger = db.get(Session, row.ledger_id)
                if ledger.ended is None:
                    ledger.ended, ledger.end_reason, ledger.last_seen = now, "cluster", now
        self.log.info("Cluster %s %s: %s", cluster_id, state, reason)

    # -- watching -------------------------------------------------------------------------
    def touch(self, cluster_id: str) -> None:
        """Livy activity: push idle auto-termination back."""
        with self.db.session() as db:
            row = db.get(Cluster, cluster_id)
            if row is not None:
                row.last_activity = utcnow()

    def idle_deadline(self, cluster: Cluster) -> datetime | None:
        if cluster.state != "RUNNING":
            return None
        return cluster.last_activity + timedelta(seconds=cluster.spec["idle_timeout_seconds"])

    async def check(self) -> None:
        """Lost processes fail their cluster; idle clusters are terminated."""
        if self.livy is not None:
            await self.livy.sweep_abandoned()
        for cluster in self.owned_by(None):
            if cluster.state != "RUNNING":
                continue
            if not self.backend.alive(cluster.id, self.running(cluster)):
                await self.terminate(
                    cluster.id, "A Spark process of this cluster exited.", state="FAILED"
                )
                continue
            if await self._busy(cluster):
                self.touch(cluster.id)
                continue
            deadline = self.idle_deadline(cluster)
            if deadline and utcnow() >= deadline:
                idle = human_duration(cluster.spec["idle_timeout_seconds"])
                await self.terminate(cluster.id, f"Idle for {idle}: terminated automatically.")

    async def _busy(self, cluster: Cluster) -> bool:
        """A statement runs, or an application other than labdeck's sessions runs."""
        if self.livy is not None and await self.livy.busy(cluster.id):
            return True
        status = await self.backend.status(self.running(cluster)) or {}
        ours = self.livy.app_ids(cluster.id) if self.livy is not None else set()
        return any(app.get("id") not in ours for app in status.get("activeapps", []))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.config.check_interval_seconds)
            try:
                await self.check()
            except Exception:
                self.log.exception("Checking clusters failed")

    # -- service lifecycle ----------------------------------------------------------------
    async def start(self) -> None:
        """Re-adopt clusters whose processes survived a restart; clean up the others."""
        for cluster in self.owned_by(None):
            if cluster.state not in LIVE_STATES:
                continue
            if cluster.state == "RUNNING" and self.backend.alive(cluster.id, self.running(cluster)):
                self.log.info("Re-adopted running cluster %s", cluster.id)
                continue
            await self.backend.terminate(cluster.id, list(cluster.pids))
            self._finish(
                cluster.id,
                "FAILED",
                "Lost while labdeck restarted; its processes were stopped. Create it again.",
            )
        self._checker = asyncio.create_task(self._watch())

    async def shutdown(self) -> None:
        """labdeck is stopping: leave no JVM behind, and say so on each cluster."""
        if self._checker:
            self._checker.cancel()
        await asyncio.gather(
            *(
                self.terminate(cluster.id, "labdeck was stopped.")
                for cluster in self.owned_by(None)
                if cluster.state in LIVE_STATES
            )
        )
