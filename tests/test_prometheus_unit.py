"""The service's Prometheus metrics on a real service object and SQLite database (no hub),
and the Grafana dashboard checked against the metrics that exist."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from labdeck.service.app import LabdeckService
from labdeck.service.handlers.deployments import DEPLOYMENT_STATES
from labdeck.service.handlers.jobs import JOB_STATES
from labdeck.service.jobs import COMPLETED_REASON
from labdeck.service.models import STATES, Resource
from labdeck.service.prometheus import RESOURCE_METRICS
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from traitlets.config import Config

DASHBOARD = Path(__file__).parents[1] / "hub_config" / "grafana" / "labdeck-dashboard.json"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def service(tmp_path):
    config = Config({"GPUPool": {"ids": ["0", "1"]}})
    app = LabdeckService(state_dir=str(tmp_path), config=config)
    app.initialize([])
    return app


def scrape(service) -> dict[tuple, float]:
    """Every sample of the service's exposition: (name, sorted labels) -> value."""
    text = service.metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def add_resource(service, id: str, kind: str, state: str, reason: str | None = None) -> None:
    with service.db.session() as db:
        db.add(
            Resource(
                id=id, kind=kind, user="ann", name=id, spec={}, state=state, state_reason=reason
            )
        )


def test_sessions_and_gpus_are_read_when_scraped(service):
    ledger = service.ledger
    samples = scrape(service)
    # every profile is there before anyone runs it
    assert value(samples, "labdeck_sessions_running", profile="cpu") == 0
    assert value(samples, "labdeck_sessions_running", profile="gpu") == 0
    assert value(samples, "labdeck_info", version=service.version) == 1

    first = ledger.open("session", "ann", "cpu")
    ledger.open("session", "bob", "cpu")
    ledger.open("session", "cy", "gpu", gpus=["0"])
    ledger.open("job", "ann", "cpu", "j-1")  # a job is no lab session
    ledger.close(first.id, "user")
    assert service.gpus.try_assign("cy", 1) == ["0"]
    assert service.gpus.try_assign("dee", 2) is None  # one is free: dee needs two, and waits
    samples = scrape(service)
    assert value(samples, "labdeck_sessions_running", profile="cpu") == 1
    assert value(samples, "labdeck_sessions_running", profile="gpu") == 1
    assert value(samples, "labdeck_gpus_total") == 2
    assert value(samples, "labdeck_gpus_in_use") == 1
    assert value(samples, "labdeck_gpu_queue_length") == 1


def test_resources_are_counted_per_state_as_their_api_names_them(service):
    add_resource(service, "j-1", "job", "STARTING")
    add_resource(service, "j-2", "job", "TERMINATED", COMPLETED_REASON)
    add_resource(service, "j-3", "job", "TERMINATED", COMPLETED_REASON)
    add_resource(service, "j-4", "job", "TERMINATED", "Stopped by its owner.")
    add_resource(service, "j-5", "job", "FAILED", "Exited with code 1.")
    add_resource(service, "d-1", "deployment", "RUNNING")
    add_resource(service, "d-2", "deployment", "RUNNING")
    add_resource(service, "c-1", "cluster", "RUNNING")
    service.deployments._updating.add("d-2")  # an update is replacing its replicas
    samples = scrape(service)
    jobs = {state: value(samples, "labdeck_jobs", state=state) for state in JOB_STATES}
    assert jobs == {
        "PENDING": 1,
        "RUNNING": 0,
        "STOPPING": 0,
        "COMPLETED": 2,
        "STOPPED": 1,
        "FAILED": 1,
    }
    assert value(samples, "labdeck_deployments", state="IN_SERVICE") == 1
    assert value(samples, "labdeck_deployments", state="UPDATING") == 1
    assert value(samples, "labdeck_deployments", state="CREATING") == 0
    assert value(samples, "labdeck_clusters", state="RUNNING") == 1
    assert value(samples, "labdeck_clusters", state="FAILED") == 0


def test_every_state_an_api_names_is_exported():
    # the metrics cannot drift from the states the API documents
    assert set(RESOURCE_METRICS["cluster"][2]) == set(STATES)
    assert set(RESOURCE_METRICS["job"][2]) == set(JOB_STATES)
    assert set(RESOURCE_METRICS["deployment"][2]) == set(DEPLOYMENT_STATES)


def test_ledger_writes_are_counted(service):
    ledger = service.ledger

    def writes(kind: str, action: str) -> float:
        return value(scrape(service), "labdeck_ledger_writes_total", kind=kind, action=action)

    assert writes("cluster", "open") == 0
    entry = ledger.open("cluster", "ann", "spark", "c-1", cores=2)
    ledger.open("session", "ann", "cpu")
    ledger.set_deadline(entry.id, NOW, "daily_budget")
    ledger.set_deadline(entry.id, NOW, "daily_budget")  # the same: nothing written
    ledger.set_stop_reason(entry.id, "admin")
    ledger.set_stop_reason(entry.id, "user")  # the first reason stays: nothing written
    ledger.heartbeat()
    ledger.close(entry.id, "terminated")
    ledger.close(entry.id, "terminated")  # closed already: nothing written
    counted = {
        action: writes("cluster", action)
        for action in ("open", "deadline", "stop_reason", "heartbeat", "close")
    }
    assert counted == dict.fromkeys(counted, 1)
    assert writes("session", "open") == 1 and writes("session", "heartbeat") == 1


def test_a_stop_for_a_deadline_observes_how_late_it_ended(service):
    ledger = service.ledger
    lag = "labdeck_enforcement_lag_seconds"

    limit = ledger.open("session", "ann", "cpu", at=NOW - timedelta(hours=1))
    ledger.set_deadline(limit.id, NOW, "session_limit")
    ledger.set_stop_reason(limit.id, "session_limit")
    ledger.close(limit.id, "user", at=NOW + timedelta(seconds=2))

    # stopped by its owner before the deadline: no enforcement, nothing observed
    early = ledger.open("session", "bob", "cpu", at=NOW - timedelta(hours=1))
    ledger.set_deadline(early.id, NOW + timedelta(hours=1), "session_limit")
    ledger.close(early.id, "user", at=NOW)

    # a job stopped by the day's budget a hair before its timer's deadline counts 0
    job = ledger.open("job", "ann", "cpu", "j-1", at=NOW - timedelta(hours=1))
    ledger.set_deadline(job.id, NOW, "daily_budget")
    ledger.set_stop_reason(job.id, "daily_budget")
    ledger.close(job.id, "failed", at=NOW - timedelta(seconds=0.01))

    # an idle stop: due when its idle timeout ran out, which is no ledger deadline
    idle = ledger.open("session", "cy", "gpu", at=NOW - timedelta(hours=1))
    ledger.set_stop_reason(idle.id, "idle")
    ledger.close(idle.id, "user", at=NOW + timedelta(seconds=40), due=NOW)

    samples = scrape(service)
    assert value(samples, f"{lag}_count", kind="session", reason="session_limit") == 1
    assert value(samples, f"{lag}_sum", kind="session", reason="session_limit") == 2
    assert value(samples, f"{lag}_bucket", kind="session", reason="session_limit", le="1.0") == 0
    assert value(samples, f"{lag}_bucket", kind="session", reason="session_limit", le="2.5") == 1
    assert value(samples, f"{lag}_count", kind="session", reason="user") is None
    assert value(samples, f"{lag}_sum", kind="job", reason="daily_budget") == 0
    assert value(samples, f"{lag}_count", kind="job", reason="daily_budget") == 1
    assert value(samples, f"{lag}_sum", kind="session", reason="idle") == 40


# -- the Grafana dashboard -----------------------------------------------------------------
METRIC = re.compile(r"\b((?:jupyterhub|labdeck)_[a-zA-Z0-9_]+)(\{[^}]*\})?")
LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
BY = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def series_names(families) -> set[str]:
    """The names of the series a registry's metric families expose."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "info": ("_info",),
    }
    return {
        family.name + suffix for family in families for suffix in suffixes.get(family.type, ("",))
    }


def hub_series() -> set[str]:
    import jupyterhub.metrics  # noqa: F401 (registers the hub's metrics)

    return {name for name in series_names(REGISTRY.collect()) if name.startswith("jupyterhub_")}


def panels(dashboard: dict):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # inside collapsed rows


def test_the_dashboard_is_importable_and_uses_only_metrics_that_exist(service):
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    assert dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"

    # labdeck's series, every label set included (one lag observed so it has labels)
    service.metrics.enforced("session", "idle", NOW, NOW)
    labdeck = {}
    for family in text_string_to_metric_families(service.metrics.exposition().decode()):
        for sample in family.samples:
            labdeck.setdefault(sample.name, set()).update(sample.labels)
    known = hub_series() | set(labdeck)

    used = set()
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel.get("targets"), panel["title"]
        for target in panel["targets"]:
            expr = target["expr"]
            found = METRIC.findall(expr)
            assert found, (panel["title"], expr)
            for name, selector in found:
                assert name in known, (panel["title"], name)
                used.add(name)
                if name in labdeck:  # its labels exist too
                    labels = set(LABEL.findall(selector)) - {"__name__"}
                    assert labels <= labdeck[name] | {"le"}, (panel["title"], name, labels)
            if all(name in labdeck for name, _ in found):
                for group in BY.findall(expr):
                    grouped = {label.strip() for label in group.split(",") if label.strip()}
                    have = set().union(*(labdeck[name] for name, _ in found))
                    assert grouped <= have, (panel["title"], expr)
    # every labdeck metric and the hub's main ones are on the dashboard
    expected = {
        "labdeck_sessions_running",
        "labdeck_gpus_in_use",
        "labdeck_gpu_queue_length",
        "labdeck_clusters",
        "labdeck_jobs",
        "labdeck_deployments",
        "labdeck_enforcement_lag_seconds_bucket",
        "labdeck_ledger_writes_total",
        "jupyterhub_running_servers",
        "jupyterhub_active_users",
        "jupyterhub_total_users",
        "jupyterhub_server_spawn_duration_seconds_bucket",
        "jupyterhub_request_duration_seconds_count",
    }
    assert expected <= used, expected - used
