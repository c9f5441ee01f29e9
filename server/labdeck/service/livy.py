"""The Livy-compatible gateway: interactive sessions on a cluster, as sparkmagic uses them.

Each session is a Spark driver process (`python -m labdeck.spark.driver`) with a classic
(py4j) SparkSession bound to the cluster; statements are passed to it over loopback HTTP
with a per-session token. Session objects and states follow Apache Livy's REST API.
"""

import asyncio
import json
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from tornado import httpclient

from ..spark.local import process_alive
from ..spark.spec import spark_memory
from .errors import APIError
from .models import Cluster, LivySession, utcnow

SUPPORTED_KINDS = ("pyspark",)
DRIVER_MARK = "labdeck.spark.driver"  # in every driver's command line
FINAL_STATES = ("dead", "killed", "error", "success")
DRIVER_START_TIMEOUT = 120
LOG_LINES = 200
LOG_TAIL_BYTES = 64 * 1024
# Livy session properties sparkmagic may send, and the Spark settings they become.
SPARK_PROPERTIES = {
    "driverMemory": "spark.driver.memory",
    "executorMemory": "spark.executor.memory",
    "executorCores": "spark.executor.cores",
    "numExecutors": "spark.executor.instances",
}


class LivyGateway:
    def __init__(self, db, clusters, work_root: Path, log):
        self.db = db
        self.clusters = clusters
        self.work_root = work_root
        self.log = log
        self._tasks: set[asyncio.Task] = set()

    # -- sessions -------------------------------------------------------------------------
    def sessions(self, cluster_id: str) -> list[LivySession]:
        with self.db.session() as db:
            query = select(LivySession).where(LivySession.cluster_id == cluster_id)
            return list(db.scalars(query.order_by(LivySession.id)))

    def get(self, cluster_id: str, session_id: str) -> LivySession:
        row = None
        if session_id.isdigit():
            with self.db.session() as db:
                row = db.get(LivySession, int(session_id))
        if row is None or row.cluster_id != cluster_id:
            raise APIError(404, "not_found", f"There is no session {session_id} on this cluster.")
        return row

    def _dir(self, session: LivySession) -> Path:
        return self.work_root / session.cluster_id / "sessions" / str(session.id)

    def create(self, cluster: Cluster, user: str, body: dict) -> LivySession:
        kind = body.get("kind", "pyspark")
        if kind not in SUPPORTED_KINDS:
            raise APIError(
                400,
                "unsupported_kind",
                f"Session kind {kind!r} is not available here; use 'pyspark' "
                "(SQL runs through it with %%sql).",
            )
        timeout = body.get("heartbeatTimeoutInSecond", 0)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
            raise APIError(400, "invalid_request", "'heartbeatTimeoutInSecond' must be >= 0.")
        conf = body.get("conf") or {}
        if not isinstance(conf, dict) or not all(
            isinstance(v, str | int | float) for v in conf.values()
        ):
            raise APIError(400, "invalid_request", "'conf' must map Spark settings to values.")
        if cluster.state != "RUNNING":
            raise APIError(
                409, "cluster_not_running", f"Cluster {cluster.name} is {cluster.state.lower()}."
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
        settings = {str(k): str(v) for k, v in conf.items()}
        for livy_name, spark_name in SPARK_PROPERTIES.items():
            if livy_name in body:
                settings[spark_name] = str(body[livy_name])
        self._background(self._launch(session.id, cluster, settings))
        self.clusters.touch(cluster.id)
        return session

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _launch(self, session_id: int, cluster: Cluster, settings: dict) -> None:
        with self.db.session() as db:
            session = db.get(LivySession, session_id)
        directory = self._dir(session)
        directory.mkdir(parents=True, exist_ok=True)
        ready = directory / "ready.json"
        ui_path = self.clusters.backend.ui_proxy_path(cluster.id)
        settings = {
            "spark.ui.reverseProxy": "true",
            "spark.ui.reverseProxyUrl": ui_path,
            "spark.ui.killEnabled": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.cores.max": str(cluster.spec["workers"] * cluster.spec["worker_cores"]),
            # executors must fit the workers, or the application waits for ever
            "spark.executor.memory": spark_memory(cluster.spec["worker_memory"]),
            "spark.executor.cores": str(cluster.spec["worker_cores"]),
            **settings,
        }
        args = [
            sys.executable,
            "-m",
            "labdeck.spark.driver",
            *("--master", f"spark://127.0.0.1:{cluster.master_port}"),
            *("--app-name", f"{session.user}-livy-{session.id}"),
            *("--ready-file", str(ready)),
            *("--log-file", str(directory / "driver.log")),
        ]
        for key, value in settings.items():
            args += ["--conf", f"{key}={value}"]
        env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", LABDECK_LIVY_SESSION=str(session.id))
        if "spark.driver.memory" in settings:
            env["PYSPARK_SUBMIT_ARGS"] = (
                f"--driver-memory {settings['spark.driver.memory']} pyspark-shell"
            )
        output = open(directory / "driver.out", "ab")
        try:
            process = await asyncio.create_subprocess_exec(
                *args,
                stdout=output,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                cwd=directory,
                start_new_session=True,
            )
        finally:
            output.close()
        self._background(process.wait())  # reap it when it exits
        self._update(session_id, pid=process.pid)
        deadline = time.monotonic() + DRIVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if ready.exists():
                info = json.loads(ready.read_text())
                if "error" in info:
                    self._update(session_id, state="dead", reason=info["error"])
                else:
                    self._update(
                        session_id,
                        state="idle",
                        port=info["port"],
                        token=info["token"],
                        app_id=info.get("app_id"),
                    )
                return
            if process.returncode is not None or not process_alive(process.pid, DRIVER_MARK):
                self._update(
                    session_id, state="dead", reason="The Spark driver exited while starting."
                )
                return
            await asyncio.sleep(0.2)
        await self._kill(process.pid)
        self._update(session_id, state="dead", reason="The Spark driver did not start in time.")

    def _update(self, session_id: int, **values) -> None:
        with self.db.session() as db:
            row = db.get(LivySession, session_id)
            if row.state in FINAL_STATES and values.get("state") not in (None, *FINAL_STATES):
                return  # deleted while starting: stays deleted
            for key, value in values.items():
                setattr(row, key, value)

    # -- talking to a driver --------------------------------------------------------------
    async def driver(self, session: LivySession, method: str, path: str, body=None):
        """JSON from the session's driver; APIError when it cannot answer."""
        if session.port is None:
            raise APIError(409, "session_not_ready", f"Session {session.id} is {session.state}.")
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
            raise APIError(409, "session_dead", f"Session {session.id} is not running.") from e
        if response.code == 599:
            raise APIError(409, "session_dead", f"Session {session.id} is not running.")
        data = json.loads(response.body) if response.body else {}
        if response.code >= 400:
            raise APIError(
                response.code if response.code < 500 else 502,
                data.get("error", "driver_error"),
                data.get("message", "The Spark driver refused the request."),
            )
        return data

    async def state(self, session: LivySession) -> str:
        """Livy state of a session, checked against its driver."""
        if session.state in FINAL_STATES or session.state == "starting":
            if (
                session.state == "starting"
                and session.pid
                and not process_alive(session.pid, DRIVER_MARK)
            ):
                self._update(session.id, state="dead", reason="The Spark driver exited.")
                return "dead"
            return session.state
        if not process_alive(session.pid, DRIVER_MARK):
            self._update(session.id, state="dead", reason="The Spark driver exited.")
            return "dead"
        try:
            status = await self.driver(session, "GET", "/status")
        except APIError:
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
        for name in ("driver.out", "driver.log"):
            path = self._dir(session) / name
            if not path.exists():
                continue
            with path.open("rb") as f:
                if tail_bytes is not None and f.seek(0, os.SEEK_END) > tail_bytes:
                    f.seek(-tail_bytes, os.SEEK_END)
                    f.readline()  # drop the partial first line
                else:
                    f.seek(0)
                lines += f.read().decode(errors="replace").splitlines()
        if session.reason:
            lines.append(session.reason)
        return lines

    async def to_json(self, session: LivySession, base_ui: str) -> dict:
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
                "driverLogUrl": None,
                "sparkUiUrl": f"{base_ui}/proxy/{session.app_id}/" if session.app_id else None,
            },
            "log": self.log_lines(session, tail_bytes=LOG_TAIL_BYTES)[-LOG_LINES:],
        }

    # -- stopping -------------------------------------------------------------------------
    async def delete(self, session: LivySession, reason: str = "Deleted by its owner.") -> None:
        self._update(session.id, reason=reason)  # why, before anyone can see it gone
        if session.port is not None and process_alive(session.pid, DRIVER_MARK):
            try:
                await self.driver(session, "POST", "/shutdown", {})
            except APIError:
                pass
        if session.pid:
            await self._kill(session.pid)
        with self.db.session() as db:
            row = db.get(LivySession, session.id)
            if row.state not in FINAL_STATES:
                row.state = "killed"

    async def _kill(self, pid: int, grace: float = 10) -> None:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and process_alive(pid, DRIVER_MARK):
            await asyncio.sleep(0.1)
        if process_alive(pid, DRIVER_MARK):
            try:
                os.killpg(pid, signal.SIGKILL)  # the driver and its JVM
            except ProcessLookupError:
                pass

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
                await self.delete(session, "No heartbeat from its client: deleted.")

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
            if not (session.pid and process_alive(session.pid, DRIVER_MARK)):
                self._update(session.id, state="dead", reason="Lost while labdeck restarted.")
            elif session.state == "starting":
                await self.delete(session, "Interrupted while starting by a labdeck restart.")
