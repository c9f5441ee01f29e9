"""``JobMonitor``: a training job's state, log tail and metric curves in a notebook.

::

    from labdeck.jobs import submit
    from labdeck.widgets.jobs import JobMonitor

    job = submit("train.py", metric_definitions=[{"name": "loss", "regex": r"loss=([0-9.]+)"}])
    JobMonitor(job)

It polls the service every second (in a thread) until the job has ended: new log lines
are appended (by byte offset), new metric points added to the chart (by `since`), and
Stop asks the job to stop. ``background=False`` leaves the polling to ``refresh()``.
"""

from __future__ import annotations

import html
import io
import threading

import ipywidgets as widgets

from ..jobs.client import ENDED, Job
from .client import LabdeckError

TAIL_CHARACTERS = 20_000
POLL_SECONDS = 1.0
STATE_COLOURS = {
    "PENDING": "#8a6d00",
    "RUNNING": "#1565c0",
    "STOPPING": "#8a6d00",
    "COMPLETED": "#2e7d32",
    "STOPPED": "#616161",
    "FAILED": "#c62828",
}


def state_html(info: dict) -> str:
    """`<name> RUNNING: reason`, the state as a coloured chip."""
    state = info.get("state", "")
    colour = STATE_COLOURS.get(state, "#616161")
    reason = info.get("state_reason")
    said = f" {html.escape(reason)}" if reason else ""
    return (
        f"<b>{html.escape(str(info.get('name', '')))}</b> ({html.escape(str(info.get('id')))}) "
        f'<span style="background:{colour};color:white;border-radius:8px;padding:0 6px">'
        f"{html.escape(state)}</span>{said}"
    )


def series(points: list[dict]) -> dict[str, tuple[list[float], list[float]]]:
    """Script and log metrics as one series per name: (x, y), x the point's step when it
    has one, else its place in the series (a regex over the log finds no step)."""
    found: dict[str, tuple[list[float], list[float]]] = {}
    for point in points:
        if point.get("source") == "system":
            continue
        for name, value in point["values"].items():
            xs, ys = found.setdefault(name, ([], []))
            xs.append(point["step"] if point.get("step") is not None else len(xs))
            ys.append(value)
    return found


def chart_png(curves: dict[str, tuple[list[float], list[float]]]) -> bytes:
    """The curves drawn with matplotlib (no display needed), as PNG."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.6), dpi=90)
    axes = figure.add_subplot()
    for name, (xs, ys) in sorted(curves.items()):
        axes.plot(xs, ys, label=name, marker="." if len(xs) < 50 else None)
    axes.set_xlabel("step")
    axes.grid(alpha=0.3)
    if curves:
        axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


class JobMonitor(widgets.VBox):
    """A job's state, the end of its log and its metric curves, kept up to date."""

    def __init__(self, job: Job, background: bool = True):
        self.job = job
        self.header = widgets.HTML(state_html(job.info))
        self.output = widgets.Textarea(
            value="", disabled=True, layout=widgets.Layout(width="100%", height="12em")
        )
        self.chart = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.stop_button = widgets.Button(description="Stop", button_style="warning")
        self.stop_button.on_click(lambda _: self.stop())
        self.message = widgets.HTML("")
        super().__init__(
            [
                widgets.HBox([self.header, self.stop_button]),
                self.output,
                self.chart,
                self.message,
            ]
        )
        self._offset = 0
        self._since = 0
        self._points: list[dict] = []
        self._lock = threading.Lock()
        self.refresh()
        if background:
            threading.Thread(target=self._follow, daemon=True).start()

    def refresh(self) -> None:
        """Read the job's state, new log output and new metric points once."""
        with self._lock:
            try:
                self._refresh()
            except LabdeckError as e:
                self.message.value = f"<i>{html.escape(str(e))}</i>"

    def _refresh(self) -> None:
        job = self.job.refresh()
        self.header.value = state_html(job.info)
        self.stop_button.disabled = job.state in (*ENDED, "STOPPING")
        page = job.client.request("GET", f"jobs/{job.id}/logs?offset={self._offset}")
        if page["text"]:
            self.output.value = (self.output.value + page["text"])[-TAIL_CHARACTERS:]
        self._offset = page["next_offset"]
        metrics = job.client.request("GET", f"jobs/{job.id}/metrics?since={self._since}")
        if metrics["points"]:
            self._points += metrics["points"]
            curves = series(self._points)
            if curves:
                self.chart.value = chart_png(curves)
        self._since = metrics["next_since"]

    def stop(self) -> None:
        try:
            self.job.stop()
        except LabdeckError as e:
            self.message.value = f"<i>{html.escape(str(e))}</i>"
        self.refresh()

    def _follow(self) -> None:
        stop = threading.Event()
        while not stop.wait(POLL_SECONDS):
            self.refresh()
            if self.job.state in ENDED:
                self.refresh()  # the last lines and points
                return
