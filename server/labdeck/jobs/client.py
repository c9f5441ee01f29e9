"""Training jobs from a notebook or a script: submit, wait, read logs and metrics, stop.

In a notebook of a labdeck lab the service's address and the token come from the
environment (see :class:`labdeck.widgets.client.LabdeckClient`)::

    from labdeck.jobs import submit

    job = submit("train.py", metric_definitions=[{"name": "loss", "regex": r"loss=([0-9.]+)"}])
    job.wait()
    print(job.logs())
    job.metrics()  # a pandas DataFrame: t, source, step, name, value
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..widgets.client import Described, LabdeckClient, LabdeckError

ENDED = ("COMPLETED", "FAILED", "STOPPED")
METRIC_COLUMNS = ["t", "source", "step", "name", "value"]


class Job(Described):
    """One job of yours, as the service last described it (``job.info``)."""

    @property
    def id(self) -> str:
        return self.info["id"]

    @property
    def label(self) -> str:
        return f"{self.id} {self.info.get('name')!r}"

    def refresh(self) -> Job:
        self.info = self.client.request("GET", f"jobs/{self.id}")
        return self

    def wait(
        self,
        timeout: float | None = None,
        interval: float = 1.0,
        on_change: Callable[[Job], Any] | None = None,
    ) -> Job:
        """Poll until the job has ended (COMPLETED, FAILED or STOPPED); return it.

        Raises:
            LabdeckError: ``timeout`` when it still runs after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = None
        while True:
            self.refresh()
            if on_change is not None and self.state != seen:
                on_change(self)
            seen = self.state
            if self.state in ENDED:
                return self
            if deadline is not None and time.monotonic() >= deadline:
                raise LabdeckError(0, "timeout", f"Job {self.id} is still {self.state}.")
            time.sleep(interval)

    def logs(self, offset: int = 0) -> str:
        """Its output (stdout and stderr) from byte ``offset`` to what is written now."""
        parts = []
        while True:
            page = self.client.request("GET", f"jobs/{self.id}/logs?offset={offset}")
            parts.append(page["text"])
            if page["next_offset"] in (offset, page["size"]):
                return "".join(parts)
            offset = page["next_offset"]

    def metric_points(self) -> list[dict]:
        """Every metric point so far: ``{"t", "source", "step", "values"}``."""
        points, since = [], 0
        while True:
            page = self.client.request("GET", f"jobs/{self.id}/metrics?since={since}")
            points += page["points"]
            if page["next_since"] == since:
                return points
            since = page["next_since"]

    def metrics(self):
        """Its metrics as a pandas DataFrame, one row per value: t (seconds since the
        epoch), source (log, script or system), step, name, value."""
        import pandas as pd

        rows = [
            (point["t"], point["source"], point["step"], name, value)
            for point in self.metric_points()
            for name, value in point["values"].items()
        ]
        return pd.DataFrame(rows, columns=METRIC_COLUMNS)

    def stop(self) -> Job:
        """Ask it to stop (it goes STOPPING, then STOPPED)."""
        self.info = self.client.request("POST", f"jobs/{self.id}/stop")
        return self


def submit(
    script: str | None = None,
    *,
    command: list[str] | None = None,
    name: str | None = None,
    client: LabdeckClient | None = None,
    **options: Any,
) -> Job:
    """Start a training job: a ``.py`` or ``.ipynb`` in your home, or a ``command``.

    ``options`` are the API's: ``args``, ``parameters``, ``profile``, ``working_dir``,
    ``env``, ``max_runtime_seconds``, ``metric_definitions``.

    Raises:
        LabdeckError: ``invalid_job`` (400) with the service's reason, ``jobs_limit``
            (403) when as many jobs as your quota allows already run.
    """
    client = client or LabdeckClient()
    body = {key: value for key, value in options.items() if value is not None}
    if script is not None:
        body["script"] = script
    if command is not None:
        body["command"] = command
    body["name"] = name or (script.rsplit("/", 1)[-1].rsplit(".", 1)[0] if script else "job")
    return Job(client, client.request("POST", "jobs", json=body))


def jobs(client: LabdeckClient | None = None) -> list[Job]:
    """Your jobs, newest first."""
    client = client or LabdeckClient()
    return [Job(client, info) for info in client.request("GET", "jobs")]
