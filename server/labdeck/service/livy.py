"""The Livy-compatible gateway: interactive sessions on a cluster, as sparkmagic uses them.

Each session is a Spark driver process (`python -m labdeck.spark.driver`) with a classic
(py4j) SparkSession bound to the cluster; statements are passed to it over loopback HTTP
with a per-session token. Session objects and states follow Apache Livy's REST API.
"""

import asyncio
import json
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from tornado import httpclient

from ..cgroups import Limits
from ..net import listens_on
from ..spark.spec import SpecError, parse_memory, spark_memory
from ..supervisor import (
    NotReady,
    ProcessRecord,
    Supervised,
    file_exists,
    read_own_text,
    tail_lines,
)
from .clusters import ClusterManager
from .errors import Conflict, Invalid, LabdeckError, NotFound, Upstream
from .models import LivySession, Resource, utcnow
from .platform import Platform

# Every session runs statements of every kind (Livy 0.5+ shared sessions); its kind is
# the default for statements that name none, and a `spark` (Scala) session starts the
# Scala interpreter before it is idle.
SUPPORTED_KINDS = ("pyspark", "sql", "spark")
FINAL_STATES = ("dead", "killed", "error", "success")
DRIVER_START_TIMEOUT = 120
DRIVER_SHUTDOWN_SECONDS = 10
MAX_HEARTBEAT_TIMEOUT = 7 * 24 * 3600
# A driver's cgroup: its JVM heap (Spark's default, or driverMemory), plus the JVM's own
# overhead and the Python process that runs the statements.
DRIVER_MEMORY = "1g"
DRIVER_OVERHEAD = 3 * 2**29
DRIVER_PIDS = 4096
WHOLE_ID = re.compile(r"[0-9]{1,18}")
DRIVER_LOGS = ("driver.out", "driver.log")
LOG_LINES = 200
LOG_TAIL_BYTES = 64 * 1024
MAX_REASON = 512  # LivySession.reason's length
# Spark settings a session may ask for: tuning, never where it runs or how it is secured
# (spark.master, spark.authenticate*, spark.driver.host, spark.ui.* stay labdeck's).
ALLOWED_CONF = (
    "spark.sql.",
    "spark.executor.memory",
    "spark.executor.cores",
    "spark.executor.instances",
    "spark.driver.memory",
    "spark.driver.maxResultSize",
    "spark.default.parallelism",
    "spark.serializer",
    "spark.kryo",
    "spark.task.cpus",
    "spark.python.worker.memory",
)
MAX_DRIVER_MEMORY = 8 * 2**30
# How a driver's refusals reach the caller (anything else is the driver failing).
DRIVER_REFUSALS = {400: Invalid, 404: NotFound, 409: Conflict}
# Livy session properties sparkmagic may send, and the Spark settings they become.
SPARK_PROPERTIES = {
    "driverMemory": "spark.driver.memory",
    "executorMemory": "spark.executor.memory",
    "executorCores": "spark.executor.cores",
    "numExecutors": "spark.executor.instances",
}


def driver_settings(endpoint, spec) -> dict[str, str]:
    """What every driver labdeck starts on a cluster gets (a Livy session's, a batch's):
    its UI behind the cluster's proxy, loopback addresses, and executors that fit."""
    return {
        "spark.ui.reverseProxy": "true",
        "spark.ui.reverseProxyUrl": endpoint.ui_path,
        "spark.ui.killEnabled": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.authenticate": "true" if endpoint.secret else "false",
        "spark.cores.max": str(spec.cores),
        # executors must fit the workers, or the application waits for ever
        "spark.executor.memory": spark_memory(spec.worker_memory),
        "spark.executor.cores": str(spec.worker_cores),
    }


class LivyGateway:
    def __init__(self, platform: Platform, clusters: ClusterManager, work_root: Path):
        self.db, self.supervisor, self.log = platform.db, platform.supervisor, platform.log
        self.accounts = platform.accounts
        self.clusters = clusters
        self.work_root = work_root
        self._tasks: set[asyncio.Task] = set()
        # drivers started by this service (their exit status is known); others are adopted
        self._drivers: dict[int, Supervised] = {}

    # -- sessions -------------------------------------------------------------------------
    def sessions(self, cluster_id: str) -> list[LivySession]:
        with self.db.session() as db:
            query = select(LivySession).where(LivySession.cluster_id == cluster_id)
            return list(db.scalars(query.order_by(LivySession.id)))

    def get(self, cluster_id: str, session_id: str) -> LivySession:
        row = None
        if WHOLE_ID.fullmatch(session_id):
            with self.db.session() as db:
                row = db.get(LivySession, int(session_id))
        if row is None or row.cluster_id != cluster_id:
            raise NotFound(f"There is no session {session_id} on this cluster.")
        return row

    def _dir(self, session: LivySession) -> Path:
        return self.work_root / session.cluster_id / "sessions" / str(session.id)

    @staticmethod
    def _cgroup_name(session: LivySession) -> str:
        return f"livy-{session.cluster_id}-{session.id}"

    def _driver(self, session: LivySession) -> Supervised | None:
        """The session's driver process, if it was started and still can be found."""
        driver = self._drivers.get(session.id)
        if driver is None and session.process:
            driver = self.supervisor.adopt(
                ProcessRecord.from_json(session.process),
                cgroup=self.supervisor.find_limit(self._cgroup_name(session)),
            )
        return driver

    async def _ended(self, session: LivySession, reason: str = "The Spark driver exited.") -> None:
        """The driver exited on its own: say why, and remove what is left of it."""
        driver = self._driver(session)
        if driver is not None and driver.out_of_memory():
            reason = "The Spark driver ran out of memory: ask for less with driverMemory."
        self._update(session.id, state="dead", reason=reason)
        self._drivers.pop(session.id, None)
        if driver is not None:
            await self.supervisor.release(driver.cgroup)

    def _driver_running(self, session: LivySession) -> bool:
        driver = self._driver(session)
        return driver is not None and driver.running()

    def create(self, cluster: Resource, user: str, body: dict) -> LivySession:
        kind = body.get("kind", "pyspark")
        if kind not in SUPPORTED_KINDS:
            raise Invalid(
                f"Session kind {kind!r} is not available here; use one of "
                f"{', '.join(SUPPORTED_KINDS)}.",
                "unsupported_kind",
            )
        timeout = body.get("heartbeatTimeoutInSecond", 0)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int)
            or not 0 <= timeout <= MAX_HEARTBEAT_TIMEOUT
        ):
            raise Invalid(
                f"'heartbeatTimeoutInSecond' must be from 0 to {MAX_HEARTBEAT_TIMEOUT} (a week)."
            )
        conf = body.get("conf") or {}
        if not isinstance(conf, dict) or not all(
            isinstance(v, str | int | float) for v in conf.values()
        ):
            raise Invalid("'conf' must map Spark settings to values.")
        refused = sorted(k for k in conf if not str(k).startswith(ALLOWED_CONF))
        if refused:
            raise Invalid(
                f"These Spark settings cannot be set here: {', '.join(map(str, refused))}. "
                f"Settings starting with {', '.join(ALLOWED_CONF)} can.",
                "unsupported_conf",
            )
        settings = {str(k): str(v) for k, v in conf.items()}
        for livy_name, spark_name in SPARK_PROPERTIES.items():
            if livy_name in body:
                settings[spark_name] = str(body[livy_name])
        live = [s for s in self.sessions(cluster.id) if s.state not in FINAL_STATES]
        if len(live) >= self.clusters.settings.max_sessions_per_cluster:
            raise Conflict(
                f"This cluster already has {len(live)} sessions, the most it takes. "
                "Delete one (or restart its notebook's kernel) first.",
                "too_many_sessions",
            )
        self.check_sizes(cluster, settings)
        if cluster.state != "RUNNING":
            raise Conflict(
                f"Cluster {cluster.name} is {cluster.state.lower()}.", "cluster_not_running"
            )
        session = LivySession(
            cluster_id=cluster.id,
            user=user,
            kind=kind,
            name=body.get("name") if isinstance(body.get("name"), str) else None,
            state="starting",
            heartbeat_timeout=timeout,
        )
        with self.db.session() as db:
            db.add(session)
        self._background(self._launch(session.id, cluster, settings))
        self.clusters.touch(cluster.id)
        return session

    def check_sizes(self, cluster: Resource, settings: dict) -> None:
        """driverMemory within the gateway's limit; an executor's memory and cores within
        one worker (or the application would wait for ever)."""
        spec = self.clusters.spec(cluster)
        cores = settings.get("spark.executor.cores")
        if cores is not None and not (cores.isascii() and cores.isdigit() and 0 < int(cores)):
            raise Invalid("'executorCores' must be a whole number of at least 1.")
        if cores is not None and int(cores) > spec.worker_cores:
            raise Invalid(f"'executorCores' must be at most {spec.worker_cores} on this cluster.")
        bounds = {
            "spark.driver.memory": ("driverMemory", MAX_DRIVER_MEMORY),
            "spark.executor.memory": ("executorMemory", spec.worker_memory),
        }
        for key, (name, most) in bounds.items():
            if key not in settings:
                continue
            try:
                amount = parse_memory(settings[key])
            except SpecError as e:
                raise Invalid(f"'{name}' must look like 512m or 2g.") from e
            if amount > most:
                raise Invalid(f"'{name}' must be at most {spark_memory(most)} on this cluster.")

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _launch(self, session_id: int, cluster: Resource, settings: dict) -> None:
        with self.db.session() as db:
            session = db.get(LivySession, session_id)
        account = await self.accounts.account(session.user)
        directory = self._dir(session)
        directory.mkdir(parents=True, exist_ok=True)
        if account is not None:  # the driver runs as the owner and writes here
            os.chown(directory, account.uid, account.gid)
        directory.chmod(0o700)
        ready = directory / "ready.json"
        endpoint = self.clusters.endpoint(cluster)
        spec = self.clusters.spec(cluster)
        settings = {**driver_settings(endpoint, spec), **settings}
        args = [
            sys.executable,
            "-m",
            "labdeck.spark.driver",
            *("--master", endpoint.master_url),
            *("--app-name", f"{session.user}-livy-{session.id}"),
            *("--ready-file", str(ready)),
            *("--kind", session.kind),
            *("--log-file", str(directory / "driver.log")),
        ]
        for key, value in settings.items():
            args += ["--conf", f"{key}={value}"]
        env = {"SPARK_LOCAL_IP": "127.0.0.1", "LABDECK_LIVY_SESSION": str(session.id)}
        if endpoint.secret:
            env["_SPARK_AUTH_SECRET"] = endpoint.secret  # Spark reads it from there
        if "spark.driver.memory" in settings:
            env["PYSPARK_SUBMIT_ARGS"] = (
                f"--driver-memory {settings['spark.driver.memory']} pyspark-shell"
            )
        driver_memory = parse_memory(settings.get("spark.driver.memory", DRIVER_MEMORY))
        cgroup = self.supervisor.limit(
            self._cgroup_name(session),
            Limits(
                cpu_cores=max(spec.cores, 1),
                memory_bytes=driver_memory + DRIVER_OVERHEAD,
                pids=DRIVER_PIDS,
            ),
        )
        driver = await self.supervisor.start(
            f"livy-{session.id}",
            args,
            log_path=directory / "driver.out",
            env=env,
            cwd=directory,
            account=account,
            cgroup=cgroup,
        )
        self._drivers[session_id] = driver
        self._update(session_id, process=driver.record.to_json())
        try:
            await driver.wait_ready(file_exists(ready), DRIVER_START_TIMEOUT)
        except NotReady as e:
            if driver.running():
                await self.supervisor.terminate([driver])
                reason = "The Spark driver did not start in time."
            else:
                reason = "The Spark driver exited while starting."
            self.log.warning("Livy session %s: %s", session_id, e)
            self._update(session_id, state="dead", reason=reason)
            return
        info = await asyncio.to_thread(self._driver_address, driver, ready)
        if "error" in info:
            if driver.running():
                await self.supervisor.terminate([driver])
            self._update(session_id, state="dead", reason=str(info["error"])[:MAX_REASON])
        else:
            self._update(
                session_id,
                state="idle",
                port=info["port"],
                token=info["token"],
                app_id=info.get("app_id"),
            )

    @staticmethod
    def _driver_address(driver: Supervised, ready: Path) -> dict:
        """The driver's port and token from its ready file (written by the user's
        account), once the kernel agrees the driver listens there: the service sends the
        token, and relays statements, to nothing else."""
        try:
            info = json.loads(read_own_text(ready))
        except (OSError, ValueError):
            return {"error": "The Spark driver did not say where it listens."}
        if not isinstance(info, dict) or "error" in info:
            return info if isinstance(info, dict) else {"error": "Unreadable ready file."}
        port, token = info.get("port"), info.get("token")
        if not (
            isinstance(port, int)
            and isinstance(token, str)
            and 0 < port < 65536
            and listens_on(driver.pid, port)
        ):
            return {"error": "The Spark driver's address is not one it listens on."}
        return info

    def _update(self, session_id: int, **values) -> None:
        with self.db.session() as db:
            row = db.get(LivySession, session_id)
            if row.state in FINAL_STATES and values.get("state") not in (None, *FINAL_STATES):
                return  # deleted while starting: stays deleted
            for key, value in values.items():
                setattr(row, key, value)

    # -- talking to a driver --------------------------------------------------------------
    async def driver(self, session: LivySession, method: str, path: str, body=None):
        """JSON from the session's driver; a LabdeckError when it cannot answer."""
        if session.port is None:
            raise Conflict(f"Session {session.id} is {session.state}.", "session_not_ready")
        request = httpclient.HTTPRequest(
            f"http://127.0.0.1:{session.port}{path}",
            method=method,
            headers={"Authorization": f"token {session.token}"},
            body=json.dumps(body) if body is not None else None,
            allow_nonstandard_methods=True,  # POST without a body (shutdown)
            request_timeout=30,
        )
        try:
            response = await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError as e:
            raise Conflict(f"Session {session.id} is not running.", "session_dead") from e
        if response.code == 599:
            raise Conflict(f"Session {session.id} is not running.", "session_dead")
        data = json.loads(response.body) if response.body else {}
        if response.code >= 400:
            refusal = DRIVER_REFUSALS.get(response.code, Upstream)
            raise refusal(
                data.get("message", "The Spark driver refused the request."),
                data.get("error", "driver_error"),
            )
        return data

    async def state(self, session: LivySession) -> str:
        """Livy state of a session, checked against its driver."""
        if session.state in FINAL_STATES or session.state == "starting":
            if (
                session.state == "starting"
                and session.process
                and not self._driver_running(session)
            ):
                await self._ended(session)
                return "dead"
            return session.state
        if not self._driver_running(session):
            await self._ended(session)
            return "dead"
        try:
            status = await self.driver(session, "GET", "/status")
        except LabdeckError:
            return "dead"
        return status.get("state", "idle")

    def heartbeat(self, session: LivySession) -> None:
        with self.db.session() as db:
            row = db.get(LivySession, session.id)
            row.last_heartbeat = utcnow()

    def log_lines(self, session: LivySession, tail_bytes: int | None = None) -> list[str]:
        """The driver's output and log, then why the session ended if it did.

        tail_bytes reads only the end of each file: session objects carry the last lines
        and clients poll them often, while the logs grow for as long as the session lives.
        """
        lines = []
        for name in DRIVER_LOGS:
            lines += tail_lines(self._dir(session) / name, tail_bytes)
        if session.reason:
            lines.append(session.reason)
        return lines

    async def to_json(self, session: LivySession, base_ui: str, base_livy: str) -> dict:
        """Livy's session object; its URLs are labdeck's (the cluster's proxied UI, and
        this gateway's log of the session)."""
        state = await self.state(session)
        return {
            "id": session.id,
            "name": session.name,
            "appId": session.app_id,
            "owner": session.user,
            "proxyUser": session.user,
            "state": state,
            "kind": session.kind,
            "appInfo": {
                "driverLogUrl": f"{base_livy}/sessions/{session.id}/log",
                "sparkUiUrl": f"{base_ui}/proxy/{session.app_id}/" if session.app_id else None,
            },
            "log": self.log_lines(session, tail_bytes=LOG_TAIL_BYTES)[-LOG_LINES:],
        }

    # -- stopping -------------------------------------------------------------------------
    async def delete(self, session: LivySession, reason: str = "Deleted by its owner.") -> None:
        self._update(session.id, reason=reason)  # why, before anyone can see it gone
        driver = self._driver(session)
        if driver is not None and driver.running():
            # a clean shutdown first when it answers (it stops its Spark application)
            clean = False
            if session.port is not None:
                try:
                    await self.driver(session, "POST", "/shutdown", {})
                    clean = await driver.wait(DRIVER_SHUTDOWN_SECONDS)
                except LabdeckError:
                    pass
            if not clean:
                await self.supervisor.terminate([driver])
        if driver is not None:
            await self.supervisor.release(driver.cgroup)
        self._drivers.pop(session.id, None)
        with self.db.session() as db:
            row = db.get(LivySession, session.id)
            if row.state not in FINAL_STATES:
                row.state = "killed"

    async def stop_all(self, cluster_id: str, reason: str) -> None:
        live = [s for s in self.sessions(cluster_id) if s.state not in FINAL_STATES]
        await asyncio.gather(*(self.delete(s, reason) for s in live))

    async def sweep_abandoned(self) -> None:
        """Sessions whose client stopped sending heartbeats are deleted (Livy's rule)."""
        now = utcnow()
        with self.db.session() as db:
            rows = list(db.scalars(select(LivySession).where(LivySession.heartbeat_timeout > 0)))
        for session in rows:
            if session.state in FINAL_STATES:
                continue
            if now - session.last_heartbeat > timedelta(seconds=session.heartbeat_timeout):
                self.log.info("Session %s abandoned (no heartbeat): deleting", session.id)
                try:
                    await self.delete(session, "No heartbeat from its client: deleted.")
                except Exception:
                    # one session that cannot be deleted never keeps the others alive
                    self.log.exception("Deleting abandoned session %s", session.id)

    # -- for the cluster watcher ----------------------------------------------------------
    async def busy(self, cluster_id: str) -> bool:
        for session in self.sessions(cluster_id):
            if session.state not in FINAL_STATES and await self.state(session) == "busy":
                return True
        return False

    def app_ids(self, cluster_id: str) -> set[str]:
        return {s.app_id for s in self.sessions(cluster_id) if s.app_id}

    async def adopt(self) -> None:
        """After a restart: sessions whose driver is gone are dead."""
        with self.db.session() as db:
            rows = list(db.scalars(select(LivySession)))
        for session in rows:
            if session.state in FINAL_STATES:
                continue
            if not self._driver_running(session):
                await self._ended(session, "Lost while labdeck restarted.")
            elif session.state == "starting":
                await self.delete(session, "Interrupted while starting by a labdeck restart.")
