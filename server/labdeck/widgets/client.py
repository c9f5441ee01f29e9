"""A small client of the labdeck service, for notebooks.

Every user server (and so every kernel) has ``$LABDECK_SERVICE_URL`` (e.g.
``http://127.0.0.1:8081/services/labdeck/``) and ``$JUPYTERHUB_API_TOKEN``; the
client calls ``<service>/api/v1/<path>`` with that token, as the lab's own proxy
does::

    from labdeck.widgets.client import LabdeckClient

    client = LabdeckClient()
    cluster = client.create_cluster("etl", workers=2)
    client.wait_for_cluster(cluster["id"], on_progress=lambda c: print(c["progress"]))
    client.connect_sparkmagic(cluster["id"])  # then open a PySpark notebook
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests

from ..labserver.sparkmagic_config import sparkmagic_config, write_config

PYSPARK_KERNEL = "pysparkkernel"


class LabdeckError(Exception):
    """An error of the labdeck API, or of reaching it.

    ``str(error)`` is the server's own sentence, meant to be shown as is.

    Attributes:
        status: HTTP status; 0 when no HTTP answer is involved (the service
            cannot be reached, a wait timed out, a cluster failed).
        code: the server's machine code (``spark_limit``, ``invalid_cluster``...)
            or a local one (``network_error``, ``timeout``, ``cluster_failed``...).
        message: the readable sentence.
    """

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"LabdeckError({self.status!r}, {self.code!r}, {self.message!r})"


class LabdeckClient:
    """Calls the labdeck service as the user whose token it holds.

    Args:
        service_url: the service's base URL; defaults to ``$LABDECK_SERVICE_URL``.
        token: a hub API token; defaults to ``$JUPYTERHUB_API_TOKEN``.
        timeout: seconds to wait for each answer.
        session: a ``requests.Session`` to use (one is made otherwise).
    """

    def __init__(
        self,
        service_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30,
        session: requests.Session | None = None,
    ):
        url = service_url or os.environ.get("LABDECK_SERVICE_URL") or ""
        # sparkmagic and the API both hang below the base: always end it with "/"
        self.service_url = url.rstrip("/") + "/" if url else ""
        self.token = token if token is not None else os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.timeout = timeout
        self.session = session or requests.Session()

    def api_url(self, path: str) -> str:
        """Absolute URL of ``api/v1/<path>``."""
        if not self.service_url:
            raise LabdeckError(
                0,
                "not_configured",
                "labdeck is not configured here: LABDECK_SERVICE_URL is not set. "
                "Run this in a notebook of your labdeck lab.",
            )
        return f"{self.service_url}api/v1/{path.lstrip('/')}"

    def request(self, method: str, path: str, json: Any = None) -> Any:
        """Call ``api/v1/<path>``; the decoded JSON answer, ``None`` when empty.

        Raises:
            LabdeckError: for every non-2xx answer (with the server's message)
                and when the service cannot be reached.
        """
        url = self.api_url(path)
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        try:
            response = self.session.request(
                method, url, json=json, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as e:
            raise LabdeckError(
                0, "network_error", f"Cannot reach the labdeck service at {url}: {e}"
            ) from e
        body = _json_or_none(response)
        if not response.ok:
            code = f"http_{response.status_code}"
            message = f"The labdeck service answered {response.status_code} {response.reason}."
            if isinstance(body, dict):
                code = body.get("error") or code
                message = body.get("message") or message
            raise LabdeckError(response.status_code, code, message)
        if body is None and response.content:
            raise LabdeckError(
                response.status_code,
                "invalid_response",
                "The labdeck service sent an answer that is not JSON.",
            )
        return body

    # -- resources ---------------------------------------------------------------

    def me(self) -> dict:
        """Who you are, your runtimes, quota (``quota["spark"]``), usage and session."""
        return self.request("GET", "me")

    def clusters(self) -> list[dict]:
        """Your Spark clusters, newest first (admins: everyone's)."""
        return self.request("GET", "clusters")

    def cluster(self, cluster_id: str) -> dict:
        """One cluster; while it runs, with workers alive, cores and applications."""
        return self.request("GET", f"clusters/{_quote(cluster_id)}")

    def create_cluster(
        self,
        name: str,
        workers: int = 1,
        worker_cores: int = 1,
        worker_memory: str = "1g",
        idle_timeout_seconds: int = 3600,
    ) -> dict:
        """Start a cluster; it comes back STARTING (see :meth:`wait_for_cluster`).

        Raises:
            LabdeckError: ``spark_limit`` (403) over your limits,
                ``invalid_cluster`` (400) for a spec the service refuses.
        """
        return self.request(
            "POST",
            "clusters",
            json={
                "name": name,
                "workers": workers,
                "worker_cores": worker_cores,
                "worker_memory": worker_memory,
                "idle_timeout_seconds": idle_timeout_seconds,
            },
        )

    def wait_for_cluster(
        self,
        cluster_id: str,
        timeout: float = 180,
        on_progress: Callable[[dict], Any] | None = None,
        interval: float = 1.0,
    ) -> dict:
        """Poll a cluster until it runs; return it (with detail).

        Args:
            on_progress: called with the cluster each time its state or
                ``progress`` changes (``progress`` has ``step``, ``done``, ``total``).
            interval: seconds between polls.

        Raises:
            LabdeckError: ``cluster_failed`` / ``cluster_terminated`` with the
                service's reason when it will not run, ``timeout`` when it is
                still starting after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        seen = None
        while True:
            cluster = self.cluster(cluster_id)
            state = cluster.get("state")
            marker = (state, repr(cluster.get("progress")))
            if on_progress is not None and marker != seen:
                on_progress(cluster)
            seen = marker
            if state == "RUNNING":
                return cluster
            if state in ("FAILED", "TERMINATED", "TERMINATING"):
                raise cluster_error(cluster)
            if time.monotonic() >= deadline:
                step = (cluster.get("progress") or {}).get("step") or "starting"
                raise LabdeckError(
                    0,
                    "timeout",
                    f"Cluster {cluster.get('name', cluster_id)} is still starting after "
                    f"{timeout:g} s ({step}).",
                )
            time.sleep(max(0.0, min(interval, deadline - time.monotonic())))

    def terminate_cluster(self, cluster_id: str) -> None:
        """Terminate a cluster; returns once it is terminated."""
        self.request("DELETE", f"clusters/{_quote(cluster_id)}")

    # -- sparkmagic --------------------------------------------------------------

    def livy_url(self, cluster_id: str) -> str:
        """The cluster's Livy gateway in the service (what sparkmagic talks to)."""
        return self.api_url(f"clusters/{_quote(cluster_id)}/livy")

    def connect_sparkmagic(self, cluster_id: str) -> dict:
        """Point sparkmagic (new PySpark notebooks) at a running cluster.

        Writes ``$SPARKMAGIC_CONF_DIR/config.json`` (``~/.sparkmagic`` by default),
        as the lab's Connect button does.

        Returns:
            ``{"cluster": {"id", "name"}, "config_path", "livy_url", "kernel"}``.

        Raises:
            LabdeckError: ``not_running`` (409) when the cluster does not run.
        """
        cluster = self.cluster(cluster_id)
        if cluster.get("state") != "RUNNING":
            raise LabdeckError(
                409,
                "not_running",
                f"Cluster {cluster.get('name', cluster_id)} is "
                f"{str(cluster.get('state', 'unknown')).lower()}: connect when it runs.",
            )
        livy_url = self.livy_url(cluster_id)
        path = write_config(sparkmagic_config(livy_url, self.token, cluster_id, cluster["name"]))
        return {
            "cluster": {"id": cluster_id, "name": cluster["name"]},
            "config_path": str(path),
            "livy_url": livy_url,
            "kernel": PYSPARK_KERNEL,
        }


def cluster_error(cluster: dict) -> LabdeckError:
    """Why a cluster will not run, as an error."""
    name = cluster.get("name") or cluster.get("id")
    state = cluster.get("state")
    reason = cluster.get("state_reason")
    if state == "FAILED":
        return LabdeckError(0, "cluster_failed", reason or f"Cluster {name} failed to start.")
    return LabdeckError(
        0, "cluster_terminated", reason or f"Cluster {name} is {str(state).lower()}."
    )


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _quote(part: str) -> str:
    return quote(str(part), safe="")


class Described:
    """Something of yours in the service (a job, a deployment), as the service last
    described it (``.info``); subclasses name it for people (``label``)."""

    def __init__(self, client: LabdeckClient, info: dict):
        self.client = client
        self.info = info

    @property
    def state(self) -> str:
        return self.info["state"]

    @property
    def label(self) -> str:
        return self.info.get("name") or ""

    def __repr__(self) -> str:
        reason = self.info.get("state_reason")
        said = f": {reason}" if reason else ""
        return f"<{type(self).__name__} {self.label} {self.state}{said}>"
