"""Daily budgets of core time: pure arithmetic at chosen instants, the quota section that
declares one, and the timer any kind of resource gets from the shared lifecycle (a kind
made up here, whose backend runs a real `sleep`)."""

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from labdeck.accounts import UserAccounts
from labdeck.capabilities import quota_sections
from labdeck.quota.budget import core_budget, core_seconds, spent_at
from labdeck.quota.policy import QuotaPolicy, ResetRule
from labdeck.quota.sections import QuotaError, QuotaSection, validate_quota_document
from labdeck.quota.usage import Interval
from labdeck.service.budgets import QuotaAccess
from labdeck.service.db import Database
from labdeck.service.errors import Refused
from labdeck.service.ledger import Ledger
from labdeck.service.platform import Platform
from labdeck.service.resources import (
    RUNNING,
    TERMINATED,
    ResourceManager,
    ResourceSettings,
)
from labdeck.spark.quota import SPARK_QUOTA
from labdeck.supervisor import Supervisor
from resource_support import SleepBackend

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ROLLING = ResetRule("rolling")
H = 3600


def at(hours: float) -> datetime:
    """NOW plus hours (minus: ago)."""
    return NOW + timedelta(hours=hours)


# -- arithmetic ------------------------------------------------------------------------------
def test_core_time_weighs_each_interval_by_its_cores():
    intervals = [
        Interval(at(-30), at(-26), cores=8),  # before the window
        Interval(at(-25), at(-23), cores=2),  # one hour inside, 2 cores
        Interval(at(-2), at(-1), cores=4),
        Interval(at(-0.5), cores=1),  # running
        Interval(at(-3), at(-2)),  # a lab session: no cores, no core time
    ]
    assert core_seconds(intervals, at(-24), NOW, NOW) == (2 + 4 + 0.5) * H
    budget = core_budget(intervals, ROLLING, 8 * H, NOW)
    assert (budget.used, budget.left, budget.spent) == (6.5 * H, 1.5 * H, False)
    # the oldest core-second in the window (24 h ago) comes back now + 0; the 2-core
    # interval began before the window, so its part in it began exactly a day ago
    assert budget.resets_at == NOW


def test_a_running_resource_spends_what_is_left_at_its_rate():
    intervals = [Interval(at(-1), at(-0.5), cores=2), Interval(NOW, cores=4)]
    budget = core_budget(intervals, ROLLING, 2 * H, NOW)
    assert budget.left == H
    assert budget.deadline == NOW + timedelta(seconds=H / 4)  # 4 cores: a quarter hour


def test_no_limit_and_nothing_running_have_no_deadline():
    running = [Interval(at(-1), cores=2)]
    assert core_budget(running, ROLLING, None, NOW).deadline is None
    stopped = [Interval(at(-3), at(-1), cores=2)]
    spent = core_budget(stopped, ROLLING, H, NOW)
    assert spent.spent and spent.left == 0
    assert spent.deadline is None  # used up, but nothing runs to stop


def test_a_spent_budget_with_something_running_is_due_now():
    intervals = [Interval(at(-2), cores=1)]
    assert spent_at(intervals, ROLLING, H, NOW) == NOW


def test_old_use_leaving_a_rolling_window_makes_the_budget_last_longer():
    # 2 core-hours used 23.5 to 21.5 h ago; 1 core runs from now; 3 core-hours a day.
    # Saying "1 h left at 1 core" would stop it at 13:00; but from 12:30 to 14:30 the
    # old use leaves the window as fast as the new comes in, so it lasts until 15:00.
    intervals = [Interval(at(-23.5), at(-21.5), cores=1), Interval(NOW, cores=1)]
    assert core_budget(intervals, ROLLING, 3 * H, NOW).left == H
    assert spent_at(intervals, ROLLING, 3 * H, NOW) == at(3)


def test_a_rolling_budget_larger_than_a_day_at_the_running_rate_never_runs_out():
    intervals = [Interval(at(-1), cores=1)]
    assert spent_at(intervals, ROLLING, 24 * H + 1, NOW) is None
    assert spent_at(intervals, ROLLING, 24 * H, NOW) == at(23)  # a whole day at 1 core


def test_a_daily_reset_gives_the_whole_budget_back():
    rule = ResetRule("daily", time(13, 0), ZoneInfo("UTC"))
    running = [Interval(NOW, cores=1)]
    # 2 core-hours a day: 1 h is used before the 13:00 reset, then 2 h more after it
    assert spent_at(running, rule, 2 * H, NOW) == at(3)
    assert core_budget(running, rule, 2 * H, NOW).resets_at == at(1)
    # 4 cores spend it before the reset
    assert spent_at([Interval(NOW, cores=4)], rule, 2 * H, NOW) == at(0.5)
    # a day's budget larger than a whole window at this rate is never spent
    assert spent_at(running, rule, 25 * H, NOW) is None


def test_a_daily_reset_in_a_time_zone():
    rule = ResetRule("daily", time(9, 0), ZoneInfo("Europe/Paris"))  # 08:00 UTC in winter
    running = [Interval(at(-3), cores=2)]  # since 09:00 UTC: 6 core-hours so far
    assert core_budget(running, rule, None, NOW).used == 6 * H
    assert spent_at(running, rule, 8 * H, NOW) == at(1)
    assert core_budget(running, rule, 8 * H, NOW).resets_at == datetime(
        2026, 11, 26, 8, 0, tzinfo=UTC
    )


# -- the quota section -----------------------------------------------------------------------
def test_the_spark_section_declares_a_daily_core_time_budget():
    assert SPARK_QUOTA.budget == "daily_core_seconds"
    assert QuotaPolicy().quota_for([])["spark"]["daily_core_seconds"] == 4 * 4 * H
    # a budget is no total over live clusters: the totals' refusal never names it
    assert SPARK_QUOTA.refusal({"daily_core_seconds": 10}, {"daily_core_seconds": 50}, {}) is None
    assert SPARK_QUOTA.left({"daily_core_seconds": 10}, {"daily_core_seconds": 4}) == {
        "clusters": None,
        "workers": None,
        "cores": None,
        "memory_bytes": None,
        "daily_core_seconds": 6,
    }


@pytest.mark.parametrize(
    "value,words",
    [(-1, "at least 0"), ("4h", "whole number"), (True, "whole number"), (2**60, "at most")],
)
def test_a_bad_daily_core_time_is_explained(value, words):
    with pytest.raises(QuotaError, match=words):
        validate_quota_document({"spark": {"daily_core_seconds": value}}, ["cpu"], quota_sections())


def test_a_daily_core_time_can_be_set_or_put_back():
    document = {"spark": {"daily_core_seconds": 60}}
    assert validate_quota_document(document, ["cpu"], quota_sections()) == document
    back = {"spark": {"daily_core_seconds": None}}
    assert validate_quota_document(back, ["cpu"], quota_sections()) == back


# -- the timer every kind of resource gets -----------------------------------------------------
CORES = QuotaSection("cores", {"daily": "core time a day"}, budget="daily")
LOG = logging.getLogger("test-core-budget")


class Sleepers(ResourceManager):
    kind = "job"
    id_prefix = "s-"
    noun = "sleeper"
    quota = CORES

    def ledger_cores(self, resource) -> int:
        return resource.spec["cores"]


def test_a_kind_with_a_budget_is_stopped_when_its_running_cores_spend_it(tmp_path):
    limits = {"ann": {"daily": 3}}

    async def look_up(user: str, section: str) -> dict:
        assert section == "cores"
        return dict(limits[user])

    async def scenario():
        db = Database(f"sqlite:///{tmp_path / 'labdeck.sqlite'}")
        db.upgrade()
        sleepers = Sleepers(
            # whose account the sleep runs as does not matter here
            Platform(db, Ledger(db), Supervisor(LOG), UserAccounts(isolation=False), LOG),
            ResourceSettings(check_interval_seconds=3600),
            SleepBackend,
            tmp_path / "work",
            "/sleepers",
            QuotaAccess(QuotaPolicy(), look_up),
        )
        await sleepers.start()
        made = sleepers.create("ann", "nap", {"cores": 2})
        running = await until(lambda: (r := sleepers.get(made.id)).state == RUNNING and r)
        # 3 core-seconds at 2 cores: 1.5 s after it started
        entry = await until(lambda: (e := sleepers.ledger.get(running.ledger_id)).deadline and e)
        assert entry.deadline == running.started + timedelta(seconds=1.5)
        assert entry.deadline_reason == "daily_budget"
        assert sleepers.budget.deadline(sleepers.get(made.id)) == (entry.deadline, "daily_budget")
        # more core time moves the deadline (as an admin's quota change does)
        limits["ann"]["daily"] = 5
        await sleepers.budget.quota_changed("ann", {"cores": limits["ann"]})
        moved = sleepers.ledger.get(running.ledger_id)
        assert moved.deadline == running.started + timedelta(seconds=2.5)

        ended = await until(lambda: (r := sleepers.get(made.id)).state == TERMINATED and r, 10)
        assert ended.state_reason.startswith("Sleeper core time used up for today: 5 s of 5 s.")
        closed = sleepers.ledger.get(running.ledger_id)
        assert closed.end_reason == "daily_budget"
        # stopped at its deadline, give or take the time a stop takes
        assert timedelta(0) <= closed.ended - moved.deadline < timedelta(seconds=2)
        with pytest.raises(Refused, match="used up for today") as refused:
            sleepers.check_limits("ann", {"cores": 1}, limits["ann"])
        assert refused.value.code == "quota_exceeded"
        with pytest.raises(Refused, match="no Sleeper core time"):
            sleepers.check_limits("bob", {"cores": 1}, {"daily": 0})
        await sleepers.shutdown()

    asyncio.run(scenario())


async def until(condition, timeout: float = 30):
    async with asyncio.timeout(timeout):
        while not (result := condition()):
            await asyncio.sleep(0.02)
        return result
