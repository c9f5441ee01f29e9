"""``EndpointTester``: call a deployment from a notebook and see what it answered.

::

    from labdeck.deployments.client import deploy
    from labdeck.widgets.deployments import EndpointTester

    endpoint = deploy("models/iris", name="iris").wait()
    EndpointTester(endpoint, payload={"instances": [[5.1, 3.5, 1.4, 0.2]]})

It shows the deployment's state, a JSON payload to edit, and Send: the answer's status,
its body pretty-printed and the round trip in ms. Refresh reads the state again and the
invocation metrics: a summary of the last minute and a chart of the last hour.
"""

from __future__ import annotations

import html
import io
import json
import time
from datetime import datetime
from typing import Any

import ipywidgets as widgets
import requests

from ..deployments.client import Deployment
from .client import LabdeckError

STATE_COLOURS = {
    "CREATING": "#8a6d00",
    "IN_SERVICE": "#2e7d32",
    "UPDATING": "#1565c0",
    "DELETING": "#8a6d00",
    "STOPPED": "#616161",
    "FAILED": "#c62828",
}
ERROR_COLOUR = "#c62828"
OK_COLOUR = "#2e7d32"
CHART_MINUTES = 60
BODY_CHARACTERS = 20_000


def state_html(info: dict) -> str:
    """`<name> IN_SERVICE 1 replica (realtime): reason`, the state as a coloured chip."""
    state = info.get("state", "")
    colour = STATE_COLOURS.get(state, "#616161")
    spec = info.get("spec") or {}
    running = info.get("replicas_running", 0)
    replicas = f"{running} replica{'' if running == 1 else 's'}"
    reason = info.get("state_reason")
    said = f" {html.escape(reason)}" if reason else ""
    return (
        f"<b>{html.escape(str(info.get('name', '')))}</b> "
        f'<span style="background:{colour};color:white;border-radius:8px;padding:0 6px">'
        f"{html.escape(state)}</span> {replicas} ({html.escape(str(spec.get('mode', '')))})"
        f"{said}"
    )


def error_html(text: str) -> str:
    return f'<span style="color:{ERROR_COLOUR}">{html.escape(text)}</span>'


def pretty(body: bytes) -> str:
    """JSON indented; anything else as text."""
    try:
        return json.dumps(json.loads(body), indent=2)[:BODY_CHARACTERS]
    except ValueError:
        return body.decode("utf-8", "replace")[:BODY_CHARACTERS]


def refusal(status: int, body: bytes) -> str:
    """The service's (or the model's) sentence for a non-2xx answer."""
    try:
        found = json.loads(body)
    except ValueError:
        found = None
    if isinstance(found, dict):
        message = found.get("message") or found.get("error")
        if isinstance(message, str) and message:
            return message
    return f"The endpoint answered {status}."


def summary(points: list[dict], now: float) -> dict:
    """The minutes of `points` that overlap the last 60 s, added up (latencies are
    means over the invocations)."""
    recent = [p for p in points if _minute_start(p) >= (now - 60) // 60 * 60]
    calls = sum(p["invocations"] for p in recent)

    def mean(key: str) -> float | None:
        if not calls:
            return None
        return sum(p[key] * p["invocations"] for p in recent) / calls

    return {
        "invocations": calls,
        "errors_4xx": sum(p["errors_4xx"] for p in recent),
        "errors_5xx": sum(p["errors_5xx"] for p in recent),
        "model_latency_ms": mean("model_latency_ms"),
        "overhead_latency_ms": mean("overhead_latency_ms"),
        "cold_starts": sum(p["cold_starts"] for p in recent),
        "replicas": max((p["replicas"] for p in recent), default=0),
    }


def summary_html(figures: dict) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} ms"

    cells = [
        ("Invocations", figures["invocations"]),
        ("4xx", figures["errors_4xx"]),
        ("5xx", figures["errors_5xx"]),
        ("Model latency", ms(figures["model_latency_ms"])),
        ("Overhead", ms(figures["overhead_latency_ms"])),
        ("Cold starts", figures["cold_starts"]),
        ("Replicas", figures["replicas"]),
    ]
    head = "".join(f'<th style="padding:0 8px">{name}</th>' for name, _ in cells)
    row = "".join(f'<td style="padding:0 8px;text-align:center">{v}</td>' for _, v in cells)
    return f"<b>Last minute</b><table><tr>{head}</tr><tr>{row}</tr></table>"


def chart_png(points: list[dict], now: float) -> bytes:
    """Invocations per minute (bars) and mean latencies (lines), as PNG."""
    from matplotlib.figure import Figure

    points = sorted(points, key=_minute_start)
    figure = Figure(figsize=(6, 2.4), dpi=90)
    calls = figure.add_subplot()
    minutes = [(_minute_start(p) - now) / 60 for p in points]
    calls.bar(minutes, [p["invocations"] for p in points], width=0.8, color="#90caf9")
    calls.set_xlabel("minutes ago")
    calls.set_ylabel("invocations")
    latency = calls.twinx()
    for key, label in (("model_latency_ms", "model ms"), ("overhead_latency_ms", "overhead ms")):
        latency.plot(minutes, [p[key] for p in points], marker=".", label=label)
    latency.set_ylabel("ms")
    latency.legend(loc="upper left", fontsize="small")
    calls.grid(alpha=0.3)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _minute_start(point: dict) -> float:
    return datetime.fromisoformat(point["time"]).timestamp()


class EndpointTester(widgets.VBox):
    """Send a JSON payload to a deployment's endpoint; see the answer and the metrics.

    After each Send, ``last`` holds ``{"status", "body", "latency_ms"}`` (the body
    decoded when it is JSON); it stays None when nothing could be sent. After each
    Refresh, ``figures`` holds the last minute's metrics (see :func:`summary`).
    """

    def __init__(self, deployment: Deployment, payload: Any = None):
        self.deployment = deployment
        self.last: dict | None = None
        self.figures: dict | None = None
        self.header = widgets.HTML(state_html(deployment.info))
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.payload = widgets.Textarea(
            value=json.dumps({} if payload is None else payload, indent=2),
            description="Payload",
            layout=widgets.Layout(width="100%", height="8em"),
        )
        self.send_button = widgets.Button(description="Send", button_style="primary")
        self.send_button.on_click(lambda _: self.send())
        self.status = widgets.HTML("")
        self.response = widgets.Textarea(
            value="",
            disabled=True,
            description="Response",
            layout=widgets.Layout(width="100%", height="10em"),
        )
        self.message = widgets.HTML("")
        self.metrics = widgets.HTML("")
        self.chart = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        super().__init__(
            [
                widgets.HBox([self.header, self.refresh_button]),
                self.payload,
                widgets.HBox([self.send_button, self.status]),
                self.response,
                self.message,
                self.metrics,
                self.chart,
            ]
        )
        self.refresh()

    def send(self) -> None:
        """Send the payload; show the answer, or why nothing was sent."""
        self.message.value = ""
        try:
            body = json.dumps(json.loads(self.payload.value)).encode()
        except ValueError as e:
            self.status.value = ""
            self.message.value = error_html(f"The payload is not valid JSON: {e}.")
            return
        self.status.value = "<i>Sending…</i>"
        try:
            status, reason, answer, seconds = self._post(body)
        except LabdeckError as e:
            self.status.value = ""
            self.message.value = error_html(str(e))
            return
        latency_ms = seconds * 1000
        colour = OK_COLOUR if 200 <= status < 300 else ERROR_COLOUR
        self.status.value = (
            f'<b style="color:{colour}">{status} {html.escape(reason)}</b> in {latency_ms:.1f} ms'
        )
        self.response.value = pretty(answer)
        try:
            decoded = json.loads(answer)
        except ValueError:
            decoded = answer.decode("utf-8", "replace")
        self.last = {"status": status, "body": decoded, "latency_ms": latency_ms}
        # a call can change the state (a cold start, a deployment gone): read it again
        said = [refusal(status, answer)] if status >= 300 else []
        state_error = self._refresh_state()
        if state_error:
            said.append(state_error)
        self.message.value = "<br>".join(error_html(line) for line in said)

    def _post(self, body: bytes) -> tuple[int, str, bytes, float]:
        """POST the endpoint's invocations as the client's user: (status, reason,
        body, seconds). Every answer is returned, refusals too: they are shown."""
        info = self.deployment.info
        client = self.deployment.client
        url = client.api_url(f"endpoints/{info['user']}/{info['name']}/invocations")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if client.token:
            headers["Authorization"] = f"token {client.token}"
        started = time.perf_counter()
        try:
            response = client.session.post(url, data=body, headers=headers, timeout=client.timeout)
        except requests.RequestException as e:
            raise LabdeckError(0, "network_error", f"Cannot reach the endpoint: {e}") from e
        return (
            response.status_code,
            response.reason,
            response.content,
            time.perf_counter() - started,
        )

    def refresh(self) -> None:
        """Read the deployment's state and its metrics again."""
        state_error = self._refresh_state()
        self.message.value = error_html(state_error) if state_error else ""
        if state_error:
            return
        try:
            now = time.time()
            points = self.deployment.metric_points(since=now - CHART_MINUTES * 60)
        except LabdeckError as e:
            self.message.value = error_html(str(e))
            return
        self.figures = summary(points, now)
        self.metrics.value = summary_html(self.figures)
        if points:
            self.chart.value = chart_png(points, now)

    def _refresh_state(self) -> str | None:
        """Show the deployment's state as the service says it now; why not, if not."""
        try:
            self.deployment.refresh()
        except LabdeckError as e:
            return str(e)
        self.header.value = state_html(self.deployment.info)
        return None
