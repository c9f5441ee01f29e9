"""Model deployments from a notebook or a script: deploy a folder, call it, watch it.

In a notebook of a labdeck lab the service's address and the token come from the
environment (see :class:`labdeck.widgets.client.LabdeckClient`)::

    from labdeck.deployments import deploy

    endpoint = deploy("models/iris", name="iris").wait()
    endpoint.invoke({"instances": [[5.1, 3.5, 1.4, 0.2]]})
    endpoint.metrics()  # a pandas DataFrame, one row per minute
"""

from __future__ import annotations

import time
from typing import Any

from ..widgets.client import Described, LabdeckClient, LabdeckError

SETTLED = ("IN_SERVICE", "FAILED")


class Deployment(Described):
    """One deployment of yours, as the service last described it (``.info``). Its
    access key, when it has one, is ``.key`` on the object that made it."""

    def __init__(self, client: LabdeckClient, info: dict):
        super().__init__(client, info)
        self.key: str | None = info.get("key")

    @property
    def name(self) -> str:
        return self.info["name"]

    @property
    def label(self) -> str:
        return repr(self.name)

    def _path(self, tail: str = "") -> str:
        return f"deployments/{self.name}{tail}?user={self.info['user']}"

    def refresh(self) -> Deployment:
        self.info = self.client.request("GET", self._path())
        return self

    def wait(self, timeout: float | None = 300, interval: float = 0.5) -> Deployment:
        """Poll until it is in service (or failed, raising with the reason).

        Raises:
            LabdeckError: ``deployment_failed`` with its reason; ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.refresh()
            if self.state == "FAILED":
                raise LabdeckError(0, "deployment_failed", self.info.get("state_reason") or "")
            if self.state == "IN_SERVICE":
                return self
            if deadline is not None and time.monotonic() >= deadline:
                raise LabdeckError(0, "timeout", f"Deployment {self.name!r} is {self.state}.")
            time.sleep(interval)

    def invoke(self, data: Any) -> Any:
        """Call the endpoint with JSON ``data``; the model's JSON answer."""
        path = f"endpoints/{self.info['user']}/{self.name}/invocations"
        return self.client.request("POST", path, json=data)

    def update(self, **changes: Any) -> Deployment:
        """Change ``model_dir``, ``replicas``, ``max_concurrency``,
        ``idle_seconds_to_zero`` or ``access``; it is UPDATING until they serve."""
        self.info = self.client.request("PUT", self._path(), json=changes)
        self.key = self.info.get("key") or self.key
        return self

    def new_key(self) -> str:
        """Replace its access key (the old one stops working at once)."""
        self.key = self.client.request("POST", self._path("/key"))["key"]
        return self.key

    def metric_points(self, since: float = 0) -> list[dict]:
        return self.client.request("GET", self._path("/metrics") + f"&since={since}")["points"]

    def metrics(self):
        """Its invocation metrics as a pandas DataFrame, one row per minute."""
        import pandas as pd

        return pd.DataFrame(self.metric_points())

    def delete(self) -> None:
        self.client.request("DELETE", self._path())


def deploy(
    model_dir: str,
    *,
    name: str | None = None,
    client: LabdeckClient | None = None,
    **options: Any,
) -> Deployment:
    """Serve the model in a folder of your home (``inference.py``, or a scikit-learn
    ``model.joblib``). ``options`` are the API's: ``mode`` ("realtime" or
    "serverless"), ``replicas``, ``max_concurrency``, ``idle_seconds_to_zero``,
    ``memory_mb``, ``access`` ("private", "hub" or "key").

    Raises:
        LabdeckError: ``invalid_deployment`` (400) with the service's reason,
            ``deployment_exists`` (409), ``deployments_limit`` (403).
    """
    client = client or LabdeckClient()
    body = {key: value for key, value in options.items() if value is not None}
    body["model_dir"] = model_dir
    body["name"] = name or model_dir.rstrip("/").rsplit("/", 1)[-1].lower().replace("_", "-")
    return Deployment(client, client.request("POST", "deployments", json=body))


def deployments(client: LabdeckClient | None = None) -> list[Deployment]:
    """Your deployments."""
    client = client or LabdeckClient()
    return [Deployment(client, info) for info in client.request("GET", "deployments")]
