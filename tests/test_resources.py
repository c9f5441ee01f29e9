"""The resource lifecycle every kind shares, with a kind made up here: its backend runs a
real `sleep` through the supervisor. What is checked is what any new kind gets for free:
states, progress, the ledger entry, limits, lost processes, idleness, re-adoption after
a restart, stopping while starting, and the backend chosen by configuration."""

import asyncio
import logging
import os
import signal
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from labdeck.accounts import UserAccounts
from labdeck.quota.sections import QuotaSection
from labdeck.service.clusters import SparkClusters
from labdeck.service.db import Database
from labdeck.service.errors import Refused
from labdeck.service.ledger import Ledger
from labdeck.service.models import utcnow
from labdeck.service.platform import Platform
from labdeck.service.resources import (
    FAILED,
    RUNNING,
    TERMINATED,
    ResourceManager,
    ResourceSettings,
)
from labdeck.spark.local import LocalSparkBackend
from labdeck.supervisor import Supervisor
from labdeck_process import alive
from resource_support import SleepBackend
from traitlets import TraitError

LOG = logging.getLogger("test-resources")
SLEEPERS = QuotaSection("sleepers", {"sleepers": "sleepers", "seconds": "seconds"})


class Sleepers(ResourceManager):
    kind = "job"
    id_prefix = "s-"
    noun = "sleeper"
    quota = SLEEPERS

    def amounts(self, spec: dict) -> dict:
        return {"sleepers": 1, "seconds": spec.get("seconds", 0)}

    def idle_seconds(self, resource) -> int | None:
        return resource.spec.get("idle")


@pytest.fixture
def make(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'labdeck.sqlite'}")
    db.upgrade()
    clock = Clock()

    def manager() -> Sleepers:
        # a new manager on the same database is what a restarted service has
        return Sleepers(
            Platform(
                db, Ledger(db), Supervisor(LOG), UserAccounts(isolation=False), LOG, now=clock
            ),
            ResourceSettings(check_interval_seconds=3600),
            SleepBackend,
            tmp_path / "work",
            "/services/labdeck/sleepers",
        )

    manager.clock = clock
    return manager


class Clock:
    """Real time, plus however far a test moves it on."""

    def __init__(self):
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.ahead


async def until(condition, timeout: float = 30):
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            await asyncio.sleep(0.05)
        return result


def pid_of(resource) -> int:
    return resource.backend_state["process"]["pid"]


def test_a_resource_runs_is_counted_and_terminates(make):
    async def scenario():
        sleepers = make()
        await sleepers.start()
        made = sleepers.create("ann", "nap", {"delay": 0.3})
        assert made.state == "STARTING" and made.progress["step"] == "Queued"
        running = await until(lambda: (r := sleepers.get(made.id)).state == RUNNING and r)
        assert running.progress == {"step": "Running", "done": 1, "total": 1}
        assert running.backend_state["process"]["start_time"] is not None
        entry = sleepers.ledger.open_entry("ann", "job", made.id)
        assert (entry.profile, entry.ended) == ("job", None)
        assert sleepers.in_use("ann") == {"sleepers": 1, "seconds": 0}
        with pytest.raises(Refused, match="needs 1 sleepers and you have 1 of your 1 in use"):
            sleepers.check_limits("ann", {}, {"sleepers": 1})
        sleepers.check_limits("bob", {}, {"sleepers": 1})  # limits are per user

        await sleepers.terminate(made.id, "Terminated by its owner.")
        done = sleepers.get(made.id)
        assert (done.state, done.state_reason) == (TERMINATED, "Terminated by its owner.")
        assert sleepers.ledger.get(entry.id).end_reason == "terminated"
        assert not alive(pid_of(done))
        await sleepers.shutdown()

    asyncio.run(scenario())


def test_a_resource_whose_process_dies_fails_with_the_backends_reason(make):
    async def scenario():
        sleepers = make()
        await sleepers.start()
        made = sleepers.create("ann", "nap", {})
        running = await until(lambda: (r := sleepers.get(made.id)).state == RUNNING and r)
        os.killpg(pid_of(running), signal.SIGKILL)
        await until(lambda: not alive(pid_of(running)))
        await sleepers.check()
        failed = sleepers.get(made.id)
        assert (failed.state, failed.state_reason) == (FAILED, "The sleeper woke up.")
        assert sleepers.ledger.get(failed.ledger_id).ended is not None
        await sleepers.shutdown()

    asyncio.run(scenario())


def test_an_idle_resource_is_terminated_and_activity_keeps_it(make):
    async def scenario():
        sleepers = make()
        await sleepers.start()
        made = sleepers.create("ann", "nap", {"idle": 1})
        await until(lambda: sleepers.get(made.id).state == RUNNING)
        sleepers.touch(made.id)
        await sleepers.check()
        assert sleepers.get(made.id).state == RUNNING  # touched a moment ago
        make.clock.ahead = timedelta(seconds=1.1)
        await sleepers.check()
        ended = sleepers.get(made.id)
        assert (ended.state, ended.state_reason) == (
            TERMINATED,
            "Idle for 1 s: terminated automatically.",
        )
        await sleepers.shutdown()

    asyncio.run(scenario())


def test_a_restart_re_adopts_running_resources_and_fails_lost_ones(make):
    async def first_service():
        sleepers = make()
        await sleepers.start()
        kept = sleepers.create("ann", "kept", {})
        lost = sleepers.create("ann", "lost", {})
        await until(lambda: all(sleepers.get(i).state == RUNNING for i in (kept.id, lost.id)))
        sleepers.ledger.heartbeat()
        # the service dies here (no shutdown); one process dies while it is away
        os.killpg(pid_of(sleepers.get(lost.id)), signal.SIGKILL)
        return kept.id, lost.id

    kept_id, lost_id = asyncio.run(first_service())

    async def second_service():
        sleepers = make()
        await until(lambda: not alive(pid_of(sleepers.get(lost_id))))
        await sleepers.start()
        kept, lost = sleepers.get(kept_id), sleepers.get(lost_id)
        assert kept.state == RUNNING
        assert sleepers.ledger.get(kept.ledger_id).ended is None  # its time goes on counting
        assert lost.state == FAILED and lost.state_reason.startswith("Lost while labdeck restarted")
        entry = sleepers.ledger.get(lost.ledger_id)
        assert entry.ended == entry.last_seen  # ended where it was last seen running
        await sleepers.shutdown()  # stops what it adopted
        assert sleepers.get(kept_id).state_reason == "labdeck was stopped."
        assert not alive(pid_of(kept))

    asyncio.run(second_service())


def test_a_failed_start_and_a_stop_while_starting_leave_nothing(make):
    async def scenario():
        sleepers = make()
        await sleepers.start()
        failing = sleepers.create("ann", "fails", {"fail": True})
        failed = await until(lambda: (r := sleepers.get(failing.id)).state == FAILED and r)
        assert failed.state_reason == "This sleeper was asked to fail."
        assert failed.ledger_id is None  # never ran, never counted

        slow = sleepers.create("ann", "slow", {"delay": 30})
        await until(lambda: sleepers.get(slow.id).backend_state.get("process"))
        await sleepers.terminate(slow.id, "Terminated by its owner.")
        stopped = sleepers.get(slow.id)
        assert stopped.state == TERMINATED and stopped.ledger_id is None
        assert not alive(pid_of(stopped))
        await sleepers.shutdown()

    asyncio.run(scenario())


def test_the_spark_backend_is_chosen_by_configuration():
    assert SparkClusters().backend_class is LocalSparkBackend
    assert SparkClusters(backend_class="local").backend_class is LocalSparkBackend
    named = SparkClusters(backend_class="labdeck.spark.local.LocalSparkBackend")
    assert named.backend_class is LocalSparkBackend
    with pytest.raises(TraitError):
        SparkClusters(backend_class="labdeck.service.ledger.Ledger")  # not a Spark backend


def test_nothing_of_the_backends_reaches_the_handlers():
    handlers = Path(__file__).parents[1] / "server" / "labdeck" / "service" / "handlers"
    for module in handlers.glob("*.py"):
        text = module.read_text()
        assert ".backend" not in text and "spark.local" not in text, module.name
