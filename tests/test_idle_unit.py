"""Idle culling's decisions, and which lab requests count as activity (no hub needed)."""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from labdeck.accounts import UserAccounts
from labdeck.hub.configurer import set_activity
from labdeck.net import free_port
from labdeck.quota.policy import QuotaPolicy
from labdeck.quota.profiles import RuntimeProfiles
from labdeck.service.db import Database
from labdeck.service.gpus import GPUPool
from labdeck.service.hub_client import HubClient
from labdeck.service.idle import STOP, WARN, IdleCuller, idle_action, warning_sentence
from labdeck.service.ledger import Ledger
from labdeck.service.platform import Platform
from labdeck.service.quotas import Quotas
from labdeck.service.sessions import SessionManager
from labdeck.supervisor import Supervisor
from test_labserver_unit import jp_server_config, service_url  # noqa: F401 (fixtures)
from traitlets.config import Config

pytest_plugins = ["pytest_jupyter.jupyter_server"]

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_a_session_is_warned_then_stopped_at_its_idle_timeout():
    assert idle_action(0, 3600, 300) is None
    assert idle_action(3299, 3600, 300) is None
    assert idle_action(3300, 3600, 300) == WARN
    assert idle_action(3599, 3600, 300) == WARN
    assert idle_action(3600, 3600, 300) == STOP
    # a runtime without an idle timeout is never stopped for it
    assert idle_action(10**6, None, 300) is None
    assert idle_action(10**6, 0, 300) is None


def test_the_warning_says_how_long_idle_and_how_long_left():
    assert (
        warning_sentence(55 * 60, 5 * 60)
        == "No activity for 55 min; this session stops in 5 min unless you use it."
    )
    # time left is rounded up (never "0 min" while it runs), idleness down
    assert warning_sentence(55 * 60 + 59, 4 * 60 + 1).endswith("stops in 5 min unless you use it.")
    assert warning_sentence(12, 8) == (
        "No activity for 12 s; this session stops in 8 s unless you use it."
    )
    assert "for 1 h 5 min;" in warning_sentence(3900, 300)


def test_profiles_refuse_a_negative_idle_timeout():
    profiles = RuntimeProfiles()
    assert [p.idle_seconds for p in profiles.all()] == [3600, 1200]
    with pytest.raises(ValueError, match="idle_seconds"):
        profiles.profiles = [{"name": "cpu", "display_name": "CPU", "idle_seconds": -1}]


def test_activity_is_the_labs_report_within_a_minute_and_keeps_other_environment():
    c = Config()
    c.Spawner.environment = {"TZ": "UTC"}
    set_activity(c)
    # not the proxy's traffic, which an open tab's polls keep fresh
    assert c.JupyterHub.last_activity_interval == 0
    assert c.Spawner.environment == {"TZ": "UTC", "JUPYTERHUB_ACTIVITY_INTERVAL": "60"}
    # set first: added to the environment the spawner class has
    c = Config()
    set_activity(c)
    merged = c.Spawner.environment.get_value({"TZ": "UTC"})
    assert merged == {"TZ": "UTC", "JUPYTERHUB_ACTIVITY_INTERVAL": "60"}


@pytest.fixture
def culler(tmp_path):
    """An IdleCuller over a real ledger (SQLite) with a clock the test moves."""
    clock = {"now": T0}
    db = Database(f"sqlite:///{tmp_path}/service.sqlite")
    db.upgrade()
    log = logging.getLogger("test-idle")
    ledger = Ledger(db, now=lambda: clock["now"])
    platform = Platform(db, ledger, Supervisor(log), UserAccounts(), log, lambda: clock["now"])
    profiles = RuntimeProfiles(
        profiles=[
            {"name": "cpu", "display_name": "CPU", "idle_seconds": 3600},
            {"name": "steady", "display_name": "Steady", "idle_seconds": None},
        ]
    )
    sessions = SessionManager(platform, Quotas(db, QuotaPolicy(), profiles), GPUPool(), hub=None)
    culler = IdleCuller(sessions, hub=None, warn_before_seconds=300, log=log)
    culler.clock = clock
    return culler


def test_a_warning_is_kept_until_activity_moves(culler):
    session = culler.sessions.ledger.open("session", "alice", "cpu", "", at=T0)
    status = culler.status(session)
    # before the first check: counted from the session's start
    assert (status.idle_seconds, status.last_activity, status.warning) == (3600, None, None)
    assert status.stops_at == T0 + timedelta(hours=1)

    culler.clock["now"] = T0 + timedelta(minutes=50)
    culler._judge(session, 3600, T0, culler.now())
    assert culler.status(session).warning is None

    culler.clock["now"] = T0 + timedelta(minutes=55)
    culler._activity[session.id] = T0
    culler._judge(session, 3600, T0, culler.now())
    status = culler.status(session)
    assert status.warning == (
        "No activity for 55 min; this session stops in 5 min unless you use it."
    )
    assert status.warned_at == T0 + timedelta(minutes=55)

    # the same activity a minute later: the same warning, given when it was
    culler.clock["now"] = T0 + timedelta(minutes=56)
    culler._judge(session, 3600, T0, culler.now())
    assert culler.status(session).warned_at == T0 + timedelta(minutes=55)
    assert "stops in 4 min" in culler.status(session).warning

    # the user came back: the warning goes, and the stop moves
    used = T0 + timedelta(minutes=56)
    culler._activity[session.id] = used
    culler._judge(session, 3600, used, culler.now())
    status = culler.status(session)
    assert status.warning is None and status.warned_at is None
    assert status.stops_at == used + timedelta(hours=1)


def test_a_runtime_without_idle_timeout_has_no_idle_status(culler):
    session = culler.sessions.ledger.open("session", "bob", "steady", "", at=T0)
    assert culler.status(session) is None
    assert culler.idle_seconds(session) is None


async def test_a_failing_hub_call_does_not_stop_the_checks(culler, caplog):
    # nothing listens there: every check's call to the hub fails
    culler.hub = HubClient(f"http://127.0.0.1:{free_port()}/hub/api", "token")
    culler.check_seconds = 0.05
    culler.start()
    for _ in range(100):
        await asyncio.sleep(0.05)
        if caplog.text.count("Idle check failed") >= 3:
            break
    assert caplog.text.count("Idle check failed") >= 3
    assert not culler._task.done()
    await culler.shutdown()


async def test_reads_are_not_activity_changes_are(jp_fetch, jp_serverapp):
    settings = jp_serverapp.web_app.settings
    settings["api_last_activity"] = before = datetime(2020, 1, 1, tzinfo=UTC)
    response = await jp_fetch("labdeck", "api", "v1", "me")
    assert json.loads(response.body)["method"] == "GET"
    assert settings["api_last_activity"] == before
    # what the user does through labdeck is activity
    await jp_fetch("labdeck", "api", "v1", "clusters", method="POST", body="{}")
    assert settings["api_last_activity"] > before
    # JupyterLab's own reads (what an open tab polls) are not activity either
    settings["api_last_activity"] = before
    for path in (("api", "kernels"), ("api", "sessions"), ("api", "contents")):
        await jp_fetch(*path)
    assert settings["api_last_activity"] == before
    # a change is
    await jp_fetch("api", "contents", method="POST", body=json.dumps({"type": "file"}))
    assert settings["api_last_activity"] > before
