"""Livy batches: spark-submit of a file of the owner's home to their cluster, run as a
training job.

A batch is a job (service/jobs.py): the owner's account runs it in the job's cgroup, it
counts in the ledger and against the jobs quota and the profile's daily time like any
job, and it shows in the jobs list. Its command is pyspark's spark-submit in client mode
against the cluster's master; its stored spec carries labdeck's marker (type
"spark-batch", the cluster and the batch id), which no jobs request can set. The table
`livy_batches` gives it the integer id Livy's clients expect.

Its Spark settings, the cluster's secret among them, are in a properties file of the
owner's account (0600) in the cluster's folder of the service, never on a command line,
removed when its job ends.
Its Livy state is read from its job's: starting until the Spark application says its id
in the log, running, then success (exit 0), dead (failed) or killed (stopped).
"""

import asyncio
import os
import re
import sys
from pathlib import Path

from sqlalchemy import select

from ..spark.local import spark_home
from ..spark.standalone import account_file
from ..spark.ui_auth import ui_conf
from ..supervisor import Account
from .clusters import ClusterManager
from .errors import Conflict, NotFound, Refused
from .jobs import COMPLETED_REASON, JobManager
from .livy import LivyGateway, driver_settings
from .livy_batch_spec import BatchRequest, batch_request
from .models import (
    FAILED,
    LIVE_STATES,
    RUNNING,
    STARTING,
    TERMINATED,
    TERMINATING,
    LivyBatch,
    Resource,
)
from .platform import Platform

SPARK_BATCH = "spark-batch"  # a job's spec["type"] when it runs a Livy batch
WHOLE_ID = re.compile(r"[0-9]{1,18}")
OUTPUT = "output.log"
LOG_WINDOW = 2**20  # the log Livy's /log pages through: the lines of the output's last MiB
LOG_LINES = 200  # the last lines a batch object carries
LOG_TAIL_BYTES = 64 * 1024
# how the driver says it registered with a standalone master
APP_ID = re.compile(rb"Connected to Spark cluster with app ID (app-[0-9]{14}-[0-9]{4,})")


def escape_property(value: str) -> str:
    """A value as java.util.Properties reads it back (no control characters in it)."""
    value = value.replace("\\", "\\\\")
    return "\\" + value if value.startswith(" ") else value


class LivyBatches:
    """Livy batches on users' clusters, each one a job of the JobManager."""

    def __init__(
        self, platform: Platform, clusters: ClusterManager, livy: LivyGateway, jobs: JobManager
    ):
        self.db, self.log, self.accounts = platform.db, platform.log, platform.accounts
        self.clusters = clusters
        self.livy = livy
        self.jobs = jobs
        jobs.end_listeners.append(self._job_ended)

    # -- queries ----------------------------------------------------------------------------
    def batches(self, cluster_id: str) -> list[tuple[LivyBatch, Resource]]:
        """The cluster's batches with their jobs, oldest first."""
        query = (
            select(LivyBatch, Resource)
            .join(Resource, Resource.id == LivyBatch.job_id)
            .where(LivyBatch.cluster_id == cluster_id)
            .order_by(LivyBatch.id)
        )
        with self.db.session() as db:
            return [(batch, job) for batch, job in db.execute(query)]

    def get(self, cluster_id: str, batch_id: str) -> tuple[LivyBatch, Resource]:
        found = None
        if WHOLE_ID.fullmatch(batch_id):
            with self.db.session() as db:
                batch = db.get(LivyBatch, int(batch_id))
                job = db.get(Resource, batch.job_id) if batch and batch.job_id else None
            if job is not None and batch.cluster_id == cluster_id:
                found = batch, job
        if found is None:
            raise NotFound(f"There is no batch {batch_id} on this cluster.")
        return found

    def running(self, cluster_id: str) -> bool:
        """Whether a batch of the cluster is live (it keeps the cluster from idling out)."""
        return any(job.state in LIVE_STATES for _, job in self.batches(cluster_id))

    # -- create -----------------------------------------------------------------------------
    async def create(
        self, cluster: Resource, user: str, body: dict, quota: dict
    ) -> tuple[LivyBatch, Resource]:
        """Start a batch on the cluster as its owner's job, if the request is valid and
        the owner's jobs quota and profile time allow it."""
        if user != cluster.user:
            raise Refused(
                f"A batch runs as its cluster's owner: only {cluster.user} can submit them "
                "to this cluster.",
                "owner_only",
            )
        home = await self.jobs.home_of(user)
        request = batch_request(body, user, home)
        self.livy.check_sizes(cluster, request.settings)
        if cluster.state != RUNNING:
            raise Conflict(
                f"Cluster {cluster.name} is {cluster.state.lower()}.", "cluster_not_running"
            )
        # the batch's id first: the job's marker names it
        with self.db.session() as db:
            batch = LivyBatch(cluster_id=cluster.id, name=request.name)
            db.add(batch)
        properties = self._properties_path(cluster.id, batch.id)
        try:
            account = await self.accounts.account(user)
            self._write_properties(properties, account, self._settings(cluster, request))
            job = await self.jobs.create_job(
                user,
                {
                    "name": request.name or request.file.name[:64],
                    "command": self._argv(cluster, request, properties),
                    # the driver and its UI on loopback, as the cluster's JVMs
                    "env": {"SPARK_LOCAL_IP": "127.0.0.1"},
                },
                quota,
                marker={
                    "type": SPARK_BATCH,
                    "cluster_id": cluster.id,
                    "batch_id": batch.id,
                    "file": request.shown_file,
                },
            )
        except BaseException:
            properties.unlink(missing_ok=True)
            with self.db.session() as db:
                db.delete(db.get(LivyBatch, batch.id))
            raise
        with self.db.session() as db:
            row = db.get(LivyBatch, batch.id)
            row.job_id = job.id
        batch.job_id = job.id
        self.clusters.touch(cluster.id)
        return batch, job

    def _job_ended(self, job: Resource) -> None:
        """A batch's settings (the cluster's secret) go as soon as its job ends."""
        if job.spec.get("type") == SPARK_BATCH:
            self._properties_path(job.spec["cluster_id"], job.spec["batch_id"]).unlink(
                missing_ok=True
            )

    def _properties_path(self, cluster_id: str, batch_id: int) -> Path:
        return self.clusters.work_root / cluster_id / "batches" / f"{batch_id}.conf"

    def _settings(self, cluster: Resource, request: BatchRequest) -> dict[str, str]:
        """What a Livy session's driver gets (service/livy.py), then what the request
        asks for, then the cluster's secret and UI key, which it cannot change."""
        endpoint = self.clusters.endpoint(cluster)
        spec = self.clusters.spec(cluster)
        settings = {
            **driver_settings(endpoint, spec),
            # the UI binds a port of its own choosing; the master's proxy is the way to it
            "spark.ui.port": "0",
            "spark.ui.showConsoleProgress": "false",  # a log, not a console
            # the driver and executors run this interpreter: same version, same packages
            "spark.pyspark.python": sys.executable,
            "spark.pyspark.driver.python": sys.executable,
            **request.settings,
            "spark.authenticate": "true" if endpoint.secret else "false",
        }
        if endpoint.secret:
            settings["spark.authenticate.secret"] = endpoint.secret
            settings.update(ui_conf(endpoint.secret))
        return settings

    def _write_properties(self, path: Path, account: Account | None, settings: dict) -> None:
        """A file of the owner's account, mode 0600, in a folder of the service's that the
        account may only pass through (so it cannot swap the file for a link)."""
        folder = path.parent
        folder.mkdir(mode=0o700, exist_ok=True)
        if account is not None:
            os.chown(folder, -1, account.gid)
        folder.chmod(0o710 if account is not None else 0o700)
        text = "".join(f"{key}={escape_property(value)}\n" for key, value in settings.items())
        account_file(path, account, text, replace=True)

    def _argv(self, cluster: Resource, request: BatchRequest, properties: Path) -> list[str]:
        argv = [
            str(spark_home() / "bin" / "spark-submit"),
            *("--master", self.clusters.endpoint(cluster).master_url),
            *("--deploy-mode", "client"),
            *("--name", request.name or request.file.name),
            *("--properties-file", str(properties)),
        ]
        if request.class_name:
            argv += ["--class", request.class_name]
        for option, files in (
            ("--jars", request.jars),
            ("--py-files", request.py_files),
            ("--files", request.files),
        ):
            if files:
                argv += [option, ",".join(files)]
        return [*argv, str(request.file), *request.args]

    # -- what Livy shows ----------------------------------------------------------------------
    def app_id(self, batch: LivyBatch, job: Resource) -> str | None:
        """The Spark application's id, from the driver's log (kept once found; a batch
        that ended without one is not read again)."""
        if batch.app_id is not None:
            return batch.app_id or None
        if job.state == STARTING:
            return None
        found = APP_ID.search(self.jobs.read(job, OUTPUT, 0)[0])
        ended = job.state not in LIVE_STATES
        if found or ended:
            app_id = found[1].decode() if found else ""
            with self.db.session() as db:
                row = db.get(LivyBatch, batch.id)
                if row is not None:
                    row.app_id = app_id
            batch.app_id = app_id
        return batch.app_id or None

    def state(self, batch: LivyBatch, job: Resource) -> str:
        """Livy's state of the batch, from its job's."""
        return self._state(batch, job, self.app_id(batch, job) if job.state == RUNNING else None)

    def _state(self, batch: LivyBatch, job: Resource, app_id: str | None) -> str:
        if job.state == STARTING:
            return "starting"
        if job.state == RUNNING:
            return "running" if app_id else "starting"
        if job.state == TERMINATING:
            return "shutting_down"
        # ended: its settings (the cluster's secret) are needed no more
        self._properties_path(batch.cluster_id, batch.id).unlink(missing_ok=True)
        if job.state == TERMINATED:
            return "success" if job.state_reason == COMPLETED_REASON else "killed"
        return "dead"

    def log_lines(self, job: Resource, window: int = LOG_WINDOW) -> list[str]:
        """spark-submit's output (its last `window` bytes), then why the batch ended if
        it did not complete."""
        data, size = self.jobs.read(job, OUTPUT, -window)
        lines = data.decode(errors="replace").splitlines()
        if size > len(data) and lines:
            lines = lines[1:]  # the first line was cut
        if job.state in (TERMINATED, FAILED) and job.state_reason != COMPLETED_REASON:
            lines.append(job.state_reason or "")
        return lines

    def to_json(self, batch: LivyBatch, job: Resource, base_ui: str, base_livy: str) -> dict:
        """Livy's batch object; its URLs are labdeck's (the cluster's proxied UI, and
        this gateway's log of the batch)."""
        app_id = self.app_id(batch, job)
        state = self._state(batch, job, app_id)
        return {
            "id": batch.id,
            "name": batch.name,
            "owner": job.user,
            "proxyUser": job.user,
            "state": state,
            "appId": app_id,
            "appInfo": {
                "driverLogUrl": f"{base_livy}/batches/{batch.id}/log",
                "sparkUiUrl": f"{base_ui}/proxy/{app_id}/" if app_id else None,
            },
            "log": self.log_lines(job, LOG_TAIL_BYTES)[-LOG_LINES:],
            "jobId": job.id,  # labdeck's: the training job that runs it
        }

    # -- stopping -----------------------------------------------------------------------------
    async def delete(self, batch: LivyBatch, job: Resource, who: str) -> None:
        """A live batch is killed (and still listed, killed); an ended one is removed,
        with its job's record (its files stay in the home)."""
        if job.state in LIVE_STATES:
            await self.jobs.terminate(job.id, f"Killed through Livy by {who}.")
            return
        self._properties_path(batch.cluster_id, batch.id).unlink(missing_ok=True)
        self.jobs.forget(job, files=False)  # the batch's row goes with its job's

    async def stop_all(self, cluster_id: str, reason: str) -> None:
        """The cluster ends: so do its running batches, saying why."""
        why = f"Its cluster {cluster_id} ended ({reason.rstrip('.')}): stopped."
        live = [job for _, job in self.batches(cluster_id) if job.state in (STARTING, RUNNING)]
        await asyncio.gather(*(self.jobs.terminate(job.id, why) for job in live))

    async def adopt(self) -> None:
        """After a restart: live batches whose cluster ended meanwhile are stopped."""
        query = (
            select(LivyBatch.cluster_id)
            .join(Resource, Resource.id == LivyBatch.job_id)
            .where(Resource.state.in_((STARTING, RUNNING)))
            .distinct()
        )
        with self.db.session() as db:
            clusters = set(db.scalars(query))
        for cluster_id in clusters:
            cluster = self.clusters.get(cluster_id)
            if cluster is None or cluster.state != RUNNING:
                await self.stop_all(cluster_id, "it was not running after a labdeck restart")
