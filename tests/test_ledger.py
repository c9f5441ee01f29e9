"""The ledger on a real SQLite database: kinds and servers never mix, intervals and the
report, and the migration that brought clusters and sessions into one ledger keeps existing data."""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from labdeck.accounts import UserAccounts
from labdeck.quota.policy import QuotaPolicy
from labdeck.quota.profiles import RuntimeProfiles
from labdeck.service.db import Database, alembic_config
from labdeck.service.gpus import GPUPool
from labdeck.service.ledger import Ledger
from labdeck.service.models import LivySession, Resource
from labdeck.service.platform import Platform
from labdeck.service.quotas import Quotas
from labdeck.service.sessions import SessionManager
from labdeck.supervisor import Supervisor
from sqlalchemy import text

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'labdeck.sqlite'}")
    database.upgrade()
    return database


def test_a_session_and_a_cluster_of_one_user_are_separate_entries(db):
    ledger = Ledger(db, now=lambda: NOW)
    lab = ledger.open("session", "alice", "cpu", "", at=NOW - timedelta(hours=1))
    cluster = ledger.open("cluster", "alice", "spark", "c-1", cores=4, at=NOW - timedelta(hours=2))
    assert ledger.open_entry("alice", "session").id == lab.id
    assert ledger.open_entry("alice", "session", "other-server") is None
    assert ledger.open_entry("alice", "cluster", "c-1").id == cluster.id

    ledger.close(lab.id, "user")
    assert ledger.get(cluster.id).ended is None
    assert ledger.open_entries("session") == []
    assert list(ledger.intervals("alice", "session", NOW - timedelta(days=1))) == ["cpu"]
    assert list(ledger.intervals("alice", "cluster", NOW - timedelta(days=1))) == ["spark"]

    rows = {r.profile: r for r in ledger.report(NOW - timedelta(days=1), NOW)}
    assert rows["cpu"].seconds == 3600 and rows["cpu"].kind == "session"
    assert rows["spark"].core_seconds == 4 * 7200 and rows["spark"].kind == "cluster"


def test_the_report_keeps_kinds_apart_on_one_profile(db):
    """A training job on "cpu" is its own row, not folded into the user's cpu sessions."""
    ledger = Ledger(db, now=lambda: NOW)
    lab = ledger.open("session", "alice", "cpu", at=NOW - timedelta(hours=3))
    ledger.close(lab.id, "user", at=NOW - timedelta(hours=2))
    ledger.open("job", "alice", "cpu", "j-1", at=NOW - timedelta(minutes=30))
    ledger.open("job", "alice", "gpu", "j-2", gpus=["0"], at=NOW - timedelta(minutes=10))
    ledger.open("cluster", "alice", "spark", "c-1", cores=2, at=NOW - timedelta(minutes=5))
    ledger.open("session", "bob", "cpu", at=NOW - timedelta(minutes=1))

    rows = ledger.report(NOW - timedelta(days=1), NOW)
    assert [(r.user, r.kind, r.profile, r.entries, r.seconds) for r in rows] == [
        ("alice", "cluster", "spark", 1, 300),
        ("alice", "job", "cpu", 1, 1800),
        ("alice", "job", "gpu", 1, 600),
        ("alice", "session", "cpu", 1, 3600),
        ("bob", "session", "cpu", 1, 60),
    ]
    assert rows[0].core_seconds == 600 and rows[2].gpu_seconds == 600


def test_closing_keeps_the_first_reason_and_closes_once(db):
    ledger = Ledger(db, now=lambda: NOW)
    entry = ledger.open("session", "bob", "gpu", gpus=["0"], at=NOW - timedelta(minutes=5))
    ledger.set_stop_reason(entry.id, "daily_budget")
    closed = ledger.close(entry.id, "user")
    assert (closed.end_reason, closed.ended) == ("daily_budget", NOW)
    again = ledger.close(entry.id, "crash", at=NOW + timedelta(hours=1))
    assert (again.end_reason, again.ended) == ("daily_budget", NOW)
    with pytest.raises(ValueError, match="unknown ledger kind"):
        ledger.open("notebook", "bob", "cpu")


def test_the_migration_keeps_sessions_clusters_and_livy_sessions(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    database = Database(url)
    config = alembic_config(url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    started = "2026-11-30 10:00:00.000000"
    with database.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO sessions (id, kind, user, profile, gpus, started, ended, "
                "end_reason, last_seen, resource_id, cores) VALUES "
                "(1, 'session', 'alice', 'cpu', '[]', :s, :s, 'user', :s, NULL, NULL), "
                # the old bug: closed as 'crash' while its cluster still ran
                "(2, 'cluster', 'alice', 'spark', '[]', :s, :s, 'crash', :s, 'c-1', 2)"
            ),
            {"s": started},
        )
        c.execute(
            text(
                "INSERT INTO clusters (id, user, name, spec, state, progress, master_port, "
                "webui_port, pids, created, started, last_activity, ledger_id) VALUES "
                "('c-1', 'alice', 'one', '{\"workers\": 1}', 'RUNNING', '{}', 7077, 8080, "
                "'[11, 12]', :s, :s, :s, 2)"
            ),
            {"s": started},
        )
        c.execute(
            text(
                "INSERT INTO livy_sessions (id, cluster_id, user, kind, state, pid, created, "
                "last_heartbeat, heartbeat_timeout) VALUES "
                "(5, 'c-1', 'alice', 'pyspark', 'idle', 4242, :s, :s, 0)"
            ),
            {"s": started},
        )
    database.upgrade()

    ledger = Ledger(database)
    lab, cluster = sorted(ledger.entries(), key=lambda e: e.id)
    assert (lab.kind, lab.resource_id, lab.end_reason) == ("session", "", "user")
    assert (cluster.kind, cluster.resource_id, cluster.cores) == ("cluster", "c-1", 2)
    assert cluster.ended is None  # open again: its cluster runs
    with database.session() as s:
        resource = s.get(Resource, "c-1")
        livy = s.get(LivySession, 5)
    assert (resource.kind, resource.state, resource.ledger_id) == ("cluster", "RUNNING", 2)
    assert resource.backend_state["master_port"] == 7077
    assert [p["pid"] for p in resource.backend_state["processes"]] == [11, 12]
    assert livy.process == {"pid": 4242, "start_time": None}


def test_named_servers_of_one_user_keep_their_own_entries(db):
    """Begin on one server never closes another server's entry (or a cluster's)."""
    log = logging.getLogger("test-ledger")
    ledger = Ledger(db)
    platform = Platform(db, ledger, Supervisor(log), UserAccounts(), log)
    quotas = Quotas(db, QuotaPolicy(), RuntimeProfiles())
    sessions = SessionManager(platform, quotas, GPUPool(), hub=None)

    async def scenario():
        cluster = ledger.open("cluster", "cid", "spark", "c-1", cores=1)
        first = (await sessions.begin("cid", [], "cpu", 0, server="")).session
        other = (await sessions.begin("cid", [], "cpu", 0, server="analysis")).session
        assert {e.id for e in ledger.open_entries("session", "cid")} == {first.id, other.id}
        # the hub starts the default server again: only its old entry was a crash
        again = (await sessions.begin("cid", [], "cpu", 0, server="")).session
        assert ledger.get(first.id).end_reason == "crash"
        assert ledger.get(other.id).ended is None and ledger.get(cluster.id).ended is None
        # a quota change moves both servers' deadlines and leaves the cluster alone
        quotas.update_override("cid", {"cpu": {"session_seconds": 60}}, by="admin")
        sessions.reschedule_user("cid", [])
        for entry in (again, other):
            moved = ledger.get(entry.id)
            assert moved.deadline == moved.started + timedelta(seconds=60)
        assert sessions.open_session("cid").id == again.id
        assert sessions.open_session("cid", "analysis").id == other.id
        await sessions.shutdown()

    asyncio.run(scenario())
