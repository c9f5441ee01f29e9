"""One-off time grants: budget days, deadlines that end with the grant's day, and the
grants' store and checks on a real SQLite database, at chosen instants."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from labdeck.quota.grants import budget_day, day_bounds, granted_at, spent_with_grants
from labdeck.quota.policy import QuotaPolicy, ResetRule
from labdeck.quota.profile_time import spent_at
from labdeck.quota.profiles import RuntimeProfiles
from labdeck.quota.usage import Interval, budget_window
from labdeck.service.db import Database
from labdeck.service.errors import Invalid, Refused
from labdeck.service.grants import GrantRequest, Grants
from labdeck.service.ledger import Ledger
from labdeck.service.profile_time import ProfileTime

H = 3600
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)
TOMORROW = date(2026, 11, 26)
MIDNIGHT = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
ROLLING = ResetRule("rolling")
DAILY = ResetRule("daily")  # renews at 00:00 UTC


def utc(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


# -- budget days ------------------------------------------------------------------------
def test_a_rolling_budget_day_is_the_calendar_day_in_the_policy_zone():
    assert budget_day(ROLLING, NOW) == TODAY
    assert day_bounds(ROLLING, TODAY) == (utc(25, 0), MIDNIGHT)
    tokyo = ResetRule("rolling", zone=ZoneInfo("Asia/Tokyo"))  # UTC+9: 21:00 UTC is tomorrow
    assert budget_day(tokyo, utc(25, 21)) == TOMORROW
    assert day_bounds(tokyo, TOMORROW)[0] == utc(25, 15)


def test_a_daily_budget_day_runs_from_reset_to_reset():
    paris = ResetRule("daily", time(14, 0), ZoneInfo("Europe/Paris"))  # 13:00 UTC
    # 12:00 UTC is before today's reset: still yesterday's budget day
    assert budget_day(paris, NOW) == date(2026, 11, 24)
    assert day_bounds(paris, budget_day(paris, NOW)) == budget_window(paris, NOW)
    assert budget_day(paris, utc(25, 13)) == TODAY


# -- deadlines --------------------------------------------------------------------------
def test_a_grant_adds_to_todays_budget():
    used = [Interval(utc(25, 4), None)]  # running since 04:00: 8 h used at noon
    assert spent_at(used, ROLLING, 8 * H, NOW) == NOW
    assert spent_with_grants(used, ROLLING, 8 * H, {TODAY: 2 * H}, NOW) == utc(25, 14)
    assert granted_at(ROLLING, {TODAY: 2 * H}, NOW) == 2 * H
    assert spent_with_grants(used, ROLLING, None, {TODAY: 2 * H}, NOW) is None


def test_a_grant_dated_tomorrow_does_not_count_today():
    used = [Interval(utc(25, 4), None)]
    assert spent_with_grants(used, ROLLING, 8 * H, {TOMORROW: 2 * H}, NOW) == NOW
    assert granted_at(ROLLING, {TOMORROW: 2 * H}, NOW) == 0


def test_a_deadline_a_grant_pushes_past_its_day_comes_back_to_the_days_end():
    # 22:00, running since 14:00: the 8 h are spent now; 4 h more would last to 02:00,
    # but the grant ends at midnight, when the last 24 h hold 10 h of 8
    now = utc(25, 22)
    used = [Interval(utc(25, 14), None)]
    with_grant = spent_at(used, ROLLING, 12 * H, now)
    without = spent_at(used, ROLLING, 8 * H, now)
    assert (with_grant, without) == (utc(26, 2), now)
    at = spent_with_grants(used, ROLLING, 8 * H, {TODAY: 4 * H}, now)
    assert at == MIDNIGHT == min(with_grant, max(MIDNIGHT, without))


def test_after_the_grants_day_the_plain_budget_decides():
    # running since 17:00: 5 h used at 22:00, so the 8 h last until 01:00 anyway
    now = utc(25, 22)
    used = [Interval(utc(25, 17), None)]
    without = spent_at(used, ROLLING, 8 * H, now)
    assert without == utc(26, 1)
    assert spent_with_grants(used, ROLLING, 8 * H, {TODAY: 4 * H}, now) == without


def test_with_a_daily_reset_the_grants_end_is_the_budgets_renewal():
    # 10 h used by midnight of 12 granted: the day's window closes unspent and
    # tomorrow's 8 h begin, so the session runs on until 08:00
    now = utc(25, 22)
    used = [Interval(utc(25, 14), None)]
    assert spent_with_grants(used, DAILY, 8 * H, {TODAY: 4 * H}, now) == utc(26, 8)


def test_a_grant_for_tomorrow_moves_a_deadline_that_falls_tomorrow():
    now = utc(25, 22)
    used = [Interval(utc(25, 14), None)]  # 10 h of 10 by midnight
    assert spent_with_grants(used, ROLLING, 10 * H, {}, now) == MIDNIGHT
    assert spent_with_grants(used, ROLLING, 10 * H, {TOMORROW: 2 * H}, now) == utc(26, 2)


def test_nothing_running_has_no_deadline():
    done = [Interval(utc(25, 1), utc(25, 2))]
    assert spent_with_grants(done, ROLLING, H, {TODAY: H, TOMORROW: H}, NOW) is None


# -- the store and ProfileTime on a database ----------------------------------------------
class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def grants(tmp_path, clock):
    database = Database(f"sqlite:///{tmp_path / 'labdeck.sqlite'}")
    database.upgrade()
    return Grants(database, QuotaPolicy(), clock)


@pytest.fixture
def profile_time(grants, clock):
    ledger = Ledger(grants.db, now=clock)
    return ProfileTime(ledger, grants.policy, RuntimeProfiles(), clock, grants)


QUOTA = {"cpu": {"session_seconds": 4 * H, "daily_seconds": H}, "gpu": {"session_seconds": H}}
PROFILES = ["cpu", "gpu"]


def grant(grants, seconds, day=TODAY, user="ann", profile="cpu", note="exam week"):
    return grants.add(user, GrantRequest(profile, seconds, note, day), by="teacher")


def test_no_daily_time_is_not_time_used_up_but_a_grant_gives_some(grants, profile_time):
    cpu = profile_time.profiles.get("cpu")
    none = {"cpu": {"session_seconds": H, "daily_seconds": 0}}
    with pytest.raises(Refused) as refused:
        profile_time.check("ann", cpu, none)
    # nothing renews tomorrow: not "0 s of 0 s, it renews at..."
    assert str(refused.value) == "You have no CPU time. Ask an admin for a quota."
    grant(grants, 1800)
    profile_time.check("ann", cpu, none)


def test_a_grant_lets_a_refused_user_start_again_today_only(grants, profile_time, clock):
    profile_time.ledger.open("session", "ann", "cpu", "", at=utc(25, 10))
    profile_time.ledger.close(
        profile_time.ledger.open_entry("ann", "session").id, "user", NOW - timedelta(hours=1)
    )
    cpu = profile_time.profiles.get("cpu")
    with pytest.raises(Refused) as refused:
        profile_time.check("ann", cpu, QUOTA)
    assert str(refused.value).startswith("CPU time used up for today: 1 h of 1 h.")

    grant(grants, 1800, day=TOMORROW)  # not today's
    with pytest.raises(Refused):
        profile_time.check("ann", cpu, QUOTA)
    grant(grants, 1800)
    profile_time.check("ann", cpu, QUOTA)  # allowed now
    usage = profile_time.usage_for("ann", QUOTA)["cpu"]
    assert (usage.used_seconds, usage.remaining_seconds) == (H, 1800)
    assert profile_time.granted("ann") == {"cpu": 1800}
    assert profile_time.granted("bob") == {}

    clock.at = utc(25, 12) + timedelta(minutes=30)  # the half hour is used too
    profile_time.ledger.open("session", "ann", "cpu", "", at=NOW)
    message = profile_time.stop_message("ann", "cpu", QUOTA)
    assert message.startswith(
        "CPU time used up for today: 1 h 30 min of 1 h 30 min (30 min granted today)."
    )

    clock.at = MIDNIGHT + timedelta(hours=10)  # next day: tomorrow's grant only
    assert profile_time.granted("ann") == {"cpu": 1800}
    assert grants.on_day("ann", TOMORROW)[0].granted_by == "teacher"


def test_a_running_sessions_deadline_moves_with_a_grant_and_back_on_revoke(
    grants, profile_time, clock
):
    entry = profile_time.ledger.open("session", "ann", "cpu", "", at=NOW)
    (before,) = profile_time.deadlines("ann", QUOTA)
    assert (before.deadline, before.deadline_reason) == (NOW + timedelta(hours=1), "daily_budget")
    extra = grant(grants, 2 * H)
    (after,) = profile_time.deadlines("ann", QUOTA)
    assert after.id == entry.id and after.deadline == NOW + timedelta(hours=3)
    assert grants.revoke("bob", extra.id) is False  # not bob's
    assert grants.revoke("ann", extra.id) is True
    (again,) = profile_time.deadlines("ann", QUOTA)
    assert again.deadline == before.deadline
    assert grants.for_user("ann") == []


def test_grants_are_listed_newest_first_and_reported_by_the_day_they_begin(grants):
    first = grant(grants, 600)
    second = grant(grants, 900, day=TOMORROW, profile="gpu")
    assert [g.id for g in grants.for_user("ann")] == [second.id, first.id]
    assert [g.id for g in grants.in_period(utc(24, 0), NOW)] == [first.id]
    assert [g.id for g in grants.in_period(NOW, utc(27, 0))] == [second.id]
    assert grants.in_period(utc(24, 0), utc(27, 0), users={"bob"}) == []


@pytest.mark.parametrize(
    "body,words",
    [
        ({"profile": "tpu", "seconds": 600, "note": "x"}, "'profile' must be one of: cpu, gpu"),
        ({"profile": "gpu", "seconds": 600, "note": "x"}, "no daily limit on gpu"),
        ({"profile": "cpu", "seconds": 59, "note": "x"}, "'seconds' must be a whole number"),
        ({"profile": "cpu", "seconds": 86401, "note": "x"}, "'seconds'"),
        ({"profile": "cpu", "seconds": True, "note": "x"}, "'seconds'"),
        ({"profile": "cpu", "seconds": "600", "note": "x"}, "'seconds'"),
        ({"profile": "cpu", "seconds": 600.5, "note": "x"}, "'seconds'"),
        ({"profile": "cpu", "seconds": 600}, "'note' must say why"),
        ({"profile": "cpu", "seconds": 600, "note": "   "}, "'note'"),
        ({"profile": "cpu", "seconds": 600, "note": "x" * 501}, "'note'"),
        ({"profile": "cpu", "seconds": 600, "note": "x", "date": "2026-11-24"}, "today"),
        ({"profile": "cpu", "seconds": 600, "note": "x", "date": "2028-01-01"}, "366 days"),
        ({"profile": "cpu", "seconds": 600, "note": "x", "date": "2026-W48-3"}, "like"),
        ({"profile": "cpu", "seconds": 600, "note": "x", "date": 20261126}, "like"),
        ({"profile": "cpu", "seconds": 600, "note": "x", "hours": 2}, "Unknown field(s): hours"),
    ],
)
def test_bad_grants_are_explained(grants, body, words):
    with pytest.raises(Invalid) as error:
        grants.validate(body, QUOTA, PROFILES)
    assert words in error.value.message and error.value.code == "invalid_grant"


def test_a_good_grant_defaults_to_today(grants):
    body = {"profile": "cpu", "seconds": 7200, "note": " two more hours "}
    assert grants.validate(body, QUOTA, PROFILES) == GrantRequest(
        "cpu", 7200, "two more hours", TODAY
    )
    planned = grants.validate({**body, "date": "2026-12-01"}, QUOTA, PROFILES)
    assert planned.day == date(2026, 12, 1)
