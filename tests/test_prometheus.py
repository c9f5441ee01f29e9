"""Prometheus metrics against a real hub: who may read /services/labdeck/metrics (and the
hub's /hub/metrics with the same token), and that they follow real lab sessions."""

import secrets
import time
from datetime import datetime

import pytest
from conftest import FAST_CONFIG
from labdeck_process import Labdeck, remove_tree, traversable_dir, wait_for
from prometheus_client.parser import text_string_to_metric_families

METRICS = "/services/labdeck/metrics"
LAG = "labdeck_enforcement_lag_seconds"
PROMETHEUS_TOKEN = secrets.token_hex(32)
# a Prometheus service as hub_config/README.md documents it: one token for both endpoints
PROMETHEUS_CONFIG = f"""
c.JupyterHub.services.append({{"name": "prometheus", "api_token": {PROMETHEUS_TOKEN!r}}})
c.JupyterHub.load_roles.append(
    {{
        "name": "metrics",
        "scopes": ["read:metrics", "access:services!service=labdeck"],
        "services": ["prometheus"],
    }}
)
"""


@pytest.fixture(scope="module")
def hub():
    parent = traversable_dir()
    instance = Labdeck(parent / "state", config=FAST_CONFIG + PROMETHEUS_CONFIG).start()
    yield instance
    assert instance.stop() == 0, instance.log()
    remove_tree(parent)


def scrape(hub: Labdeck, token="admin") -> dict[tuple, float]:
    """(sample name, sorted labels) -> value, parsed with prometheus-client's parser."""
    response = hub.request("GET", METRICS, token=token)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def running(hub: Labdeck, profile: str = "cpu") -> float:
    return value(scrape(hub), "labdeck_sessions_running", profile=profile)


def session_writes(hub: Labdeck, action: str) -> float:
    return value(scrape(hub), "labdeck_ledger_writes_total", kind="session", action=action)


def test_admins_and_the_metrics_scope_read_metrics_others_are_refused(hub):
    name = "watcher"
    user_token = hub.create_user(name)
    for path in (METRICS, "/hub/metrics"):
        assert hub.request("GET", path, token=PROMETHEUS_TOKEN).status_code == 200, path
        assert hub.request("GET", path, token=user_token).status_code == 403, path
    assert hub.request("GET", "/hub/metrics", token="admin").status_code == 200
    # as prometheus.yml sends it (authorization: type Bearer)
    bearer = {"Authorization": f"Bearer {PROMETHEUS_TOKEN}"}
    for path in (METRICS, "/hub/metrics"):
        assert hub.request("GET", path, token=None, headers=bearer).status_code == 200, path

    samples = scrape(hub, "admin")
    assert ("labdeck_gpus_total", ()) in samples
    assert scrape(hub, PROMETHEUS_TOKEN).keys() == samples.keys()

    refused = hub.request("GET", METRICS, token=user_token)
    assert refused.json()["error"] == "forbidden"
    assert "read:metrics" in refused.json()["message"]
    for token in (None, "forged-token"):
        anonymous = hub.request("GET", METRICS, token=token)
        assert anonymous.status_code == 401
        assert set(anonymous.json()) == {"error", "message"}


def test_a_running_lab_is_counted_and_its_ledger_writes_too(hub):
    name = "counted"
    hub.create_user(name)
    opened, closed = session_writes(hub, "open"), session_writes(hub, "close")
    assert running(hub) == 0
    hub.start_server(name)
    assert running(hub) == 1
    assert session_writes(hub, "open") == opened + 1
    hub.stop_server(name)
    wait_for(lambda: running(hub) == 0, 10, message="the session to end in the ledger")
    assert session_writes(hub, "close") == closed + 1


def seconds_since_start(hub: Labdeck, token: str) -> int:
    session = hub.service("GET", "/me", token=token).json()["session"]
    return int(time.time() - datetime.fromisoformat(session["started"]).timestamp())


def test_a_stop_at_the_session_limit_is_observed_as_enforcement_lag(hub):
    name = "limited"
    token = hub.create_user(name)
    before = scrape(hub)
    hub.start_server(name)
    # a limit a few seconds ahead, set once the lab is up
    hub.set_quota(name, {"cpu": {"session_seconds": seconds_since_start(hub, token) + 3}})
    hub.wait_stopped(name, 60)
    wait_for(
        lambda: (
            value(scrape(hub), f"{LAG}_count", kind="session", reason="session_limit")
            == value(before, f"{LAG}_count", kind="session", reason="session_limit") + 1
        ),
        10,
        message="the stop to be observed",
    )
    after = scrape(hub)
    lag = value(after, f"{LAG}_sum", kind="session", reason="session_limit") - value(
        before, f"{LAG}_sum", kind="session", reason="session_limit"
    )
    # the hub stops a lab within seconds of its deadline
    assert 0 <= lag < 30
    history = hub.service("GET", f"/sessions?user={name}").json()
    assert history[0]["end_reason"] == "session_limit"
