"""``ClusterPicker``: choose, create and connect a Spark cluster from a notebook.

::

    from labdeck.widgets import ClusterPicker
    display(ClusterPicker())

A dropdown of your running clusters with Refresh and Connect, and a small form to
create one (name, workers, memory per worker) with a progress bar while it starts.
Connect writes the sparkmagic configuration, so new notebooks with the PySpark
kernel run on that cluster. The decisions (what the dropdown lists, what the
messages say) are plain functions below, and the client is injectable, so the
widget is tested without a browser.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Iterable

import ipywidgets as widgets

from .client import PYSPARK_KERNEL, LabdeckClient, LabdeckError

MEMORY_CHOICES = ("512m", "1g", "2g", "4g")
MAX_WORKERS = 64


def running_options(clusters: Iterable[dict]) -> list[tuple[str, str]]:
    """Dropdown options ``(label, id)`` of the RUNNING clusters, in the given order."""
    options = []
    for cluster in clusters:
        if cluster.get("state") != "RUNNING":
            continue
        spec = cluster.get("spec") or {}
        workers = spec.get("workers", 0)
        cores = spec.get("worker_cores", 0)
        size = f"{_plural(workers, 'worker')}, {_plural(cores, 'core')} each"
        options.append((f"{cluster['name']} ({cluster['id']}) · {size}", cluster["id"]))
    return options


def suggest_name(clusters: Iterable[dict]) -> str:
    """``spark-1``, or the next number no live cluster uses."""
    taken = {
        c.get("name") for c in clusters if c.get("state") in ("STARTING", "RUNNING", "TERMINATING")
    }
    n = 1
    while f"spark-{n}" in taken:
        n += 1
    return f"spark-{n}"


def progress_values(cluster: dict) -> tuple[int, int, str]:
    """``(done, total, "step (done of total)")`` of a starting cluster."""
    progress = cluster.get("progress") or {}
    total = max(1, int(progress.get("total") or 1))
    done = max(0, min(total, int(progress.get("done") or 0)))
    step = progress.get("step") or "Starting"
    return done, total, f"{step} ({done} of {total})"


def listed_message(options: list[tuple[str, str]]) -> str:
    """Status after a refresh."""
    if not options:
        return "No running cluster: create one below, or wait for yours to start."
    if len(options) == 1:
        return "1 running cluster."
    return f"{len(options)} running clusters."


def connected_message(result: dict) -> str:
    """Status (HTML) after Connect: which kernel to use now."""
    name = html.escape(result["cluster"]["name"])
    kernel = html.escape(result.get("kernel") or PYSPARK_KERNEL)
    return (
        f"Connected to <b>{name}</b>. New notebooks with the <b>PySpark</b> kernel "
        f"(<code>{kernel}</code>) run on it: File ▸ New ▸ Notebook, then choose "
        "PySpark. Notebooks already open keep their cluster until their kernel restarts."
    )


def error_message(error: BaseException) -> str:
    """Status (HTML) of an error: the server's sentence."""
    return f'<span style="color: var(--jp-error-color1, #d32f2f)">{html.escape(str(error))}</span>'


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class ClusterPicker(widgets.VBox):
    """Pick or create a Spark cluster and connect PySpark notebooks to it.

    Args:
        client: the labdeck client to use (a default :class:`LabdeckClient` otherwise).
        background: wait for a new cluster in a thread, so the notebook stays
            usable while it starts; ``False`` waits in the click handler (tests).
        poll_interval: seconds between polls of a starting cluster.
        start_timeout: seconds to wait for a new cluster to run.
    """

    def __init__(
        self,
        client: LabdeckClient | None = None,
        *,
        background: bool = True,
        poll_interval: float = 1.0,
        start_timeout: float = 180,
        **kwargs,
    ):
        self.client = client or LabdeckClient()
        self.background = background
        self.poll_interval = poll_interval
        self.start_timeout = start_timeout
        self._worker: threading.Thread | None = None

        wide = widgets.Layout(width="auto")
        self.dropdown = widgets.Dropdown(
            description="Cluster", options=[], layout=widgets.Layout(width="28em")
        )
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="List your running clusters again"
        )
        self.connect_button = widgets.Button(
            description="Connect",
            icon="plug",
            button_style="primary",
            tooltip="Run new PySpark notebooks on this cluster",
        )
        self.name = widgets.Text(description="Name", value="spark-1", layout=wide)
        self.workers = widgets.BoundedIntText(
            description="Workers",
            value=1,
            min=1,
            max=MAX_WORKERS,
            layout=widgets.Layout(width="12em"),
        )
        self.memory = widgets.Dropdown(
            description="Memory",
            options=list(MEMORY_CHOICES),
            value="1g",
            tooltip="Memory per worker",
            layout=widgets.Layout(width="12em"),
        )
        self.create_button = widgets.Button(
            description="Create", icon="plus", tooltip="Start a new cluster"
        )
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, description="Starting", layout=widgets.Layout(display="none")
        )
        self.step = widgets.Label()
        self.status = widgets.HTML()

        self.refresh_button.on_click(lambda _: self.refresh())
        self.connect_button.on_click(lambda _: self.connect())
        self.create_button.on_click(lambda _: self.create())

        super().__init__(
            children=[
                widgets.HBox([self.dropdown, self.refresh_button, self.connect_button]),
                widgets.HBox([self.name, self.workers, self.memory, self.create_button]),
                widgets.HBox([self.progress, self.step]),
                self.status,
            ],
            **kwargs,
        )
        self.refresh()

    # -- actions -----------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        """List the running clusters again, keeping (or selecting) a choice."""
        try:
            clusters = self.client.clusters()
        except LabdeckError as e:
            self._say(error_message(e))
            return
        options = running_options(clusters)
        keep = select or self.dropdown.value
        ids = [value for _, value in options]
        self.dropdown.options = options
        self.dropdown.value = keep if keep in ids else (ids[0] if ids else None)
        self.connect_button.disabled = not ids
        if not self._busy():
            self.name.value = suggest_name(clusters)
        self._say(html.escape(listed_message(options)))

    def connect(self) -> dict | None:
        """Connect sparkmagic to the chosen cluster; the result, or None on error."""
        cluster_id = self.dropdown.value
        if not cluster_id:
            self._say(html.escape("Choose a running cluster first (or create one)."))
            return None
        self.connect_button.disabled = True
        try:
            result = self.client.connect_sparkmagic(cluster_id)
        except LabdeckError as e:
            self._say(error_message(e))
            return None
        finally:
            self.connect_button.disabled = not self.dropdown.options
        self._say(connected_message(result))
        return result

    def create(self) -> dict | None:
        """Create a cluster from the form and follow its start."""
        if self._busy():
            return None
        try:
            cluster = self.client.create_cluster(
                self.name.value.strip(),
                workers=int(self.workers.value),
                worker_memory=self.memory.value,
            )
        except LabdeckError as e:
            self._say(error_message(e))
            return None
        self.create_button.disabled = True
        self._show_progress(cluster)
        self._say(html.escape(f"Starting {cluster['name']}…"))
        if self.background:
            self._worker = threading.Thread(
                target=self._wait, args=(cluster,), name="labdeck-cluster-start", daemon=True
            )
            self._worker.start()
        else:
            self._wait(cluster)
        return cluster

    def join(self, timeout: float | None = None) -> None:
        """Wait for a background start to finish (for scripts and tests)."""
        if self._worker is not None:
            self._worker.join(timeout)

    # -- internals ---------------------------------------------------------------

    def _wait(self, cluster: dict) -> None:
        try:
            running = self.client.wait_for_cluster(
                cluster["id"],
                timeout=self.start_timeout,
                on_progress=self._show_progress,
                interval=self.poll_interval,
            )
        except LabdeckError as e:
            self._end_progress()
            self._say(error_message(e))
        else:
            self._end_progress()
            self.refresh(select=running["id"])
            self._say(
                html.escape(f"{running['name']} is running. ")
                + "Press <b>Connect</b> to run new PySpark notebooks on it."
            )
        finally:
            self._worker = None

    def _end_progress(self) -> None:
        self.progress.layout.display = "none"
        self.step.value = ""
        self.create_button.disabled = False

    def _show_progress(self, cluster: dict) -> None:
        done, total, text = progress_values(cluster)
        self.progress.max = total
        self.progress.value = done
        self.progress.layout.display = ""
        self.step.value = text

    def _busy(self) -> bool:
        return self.create_button.disabled

    def _say(self, message_html: str) -> None:
        self.status.value = message_html
