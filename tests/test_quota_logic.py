"""Quota policy, usage windows and deadlines: pure logic at chosen instants."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from labdeck.capabilities import quota_sections
from labdeck.quota.policy import QuotaPolicy, ResetRule, merge_override
from labdeck.quota.profile_time import spent_at as profile_spent_at
from labdeck.quota.sections import QuotaError, QuotaSection, validate_quota_document
from labdeck.quota.usage import (
    Interval,
    budget_window,
    human_duration,
    session_deadline,
    usage,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
ROLLING = ResetRule("rolling")
H = 3600


def at(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


def test_studio_lab_defaults():
    quota = QuotaPolicy().quota_for([])
    assert quota["cpu"] == {"session_seconds": 4 * H, "daily_seconds": 8 * H}
    assert quota["gpu"] == {"session_seconds": 4 * H, "daily_seconds": 4 * H}
    assert quota["storage_bytes"] == 15 * 10**9


def test_group_quota_replaces_defaults_field_by_field_and_most_generous_group_wins():
    policy = QuotaPolicy(
        group_quotas={
            "class-a": {"gpu": {"daily_seconds": 2 * H}, "storage_bytes": 10**9},
            "class-b": {"gpu": {"daily_seconds": 6 * H}},
        }
    )
    assert policy.quota_for(["class-a"])["gpu"] == {
        "session_seconds": 4 * H,
        "daily_seconds": 2 * H,
    }
    both = policy.quota_for(["class-a", "class-b"])
    assert both["gpu"]["daily_seconds"] == 6 * H
    assert both["storage_bytes"] == 10**9
    assert policy.quota_for(["other"])["gpu"]["daily_seconds"] == 4 * H


def test_user_override_wins_over_groups():
    policy = QuotaPolicy(group_quotas={"class-a": {"cpu": {"daily_seconds": H}}})
    quota = policy.quota_for(["class-a"], {"cpu": {"daily_seconds": 5 * H}})
    assert quota["cpu"]["daily_seconds"] == 5 * H


@pytest.mark.parametrize(
    "document,words",
    [
        ([], "JSON object"),
        ({"tpu": {}}, "Unknown quota field 'tpu'"),
        ({"cpu": {"hours": 3}}, "Unknown field(s) in 'cpu': hours"),
        ({"cpu": {"daily_seconds": -1}}, "at least 0"),
        ({"cpu": {"daily_seconds": 1.5}}, "whole number"),
        ({"cpu": {"daily_seconds": True}}, "whole number"),
        ({"cpu": 7}, "must be an object"),
        ({"storage_bytes": "10GB"}, "whole number"),
        ({"spark": {"gpus": 1}}, "Unknown field(s) in 'spark': gpus"),
        ({"spark": 3}, "'spark' must be an object with clusters, workers, cores"),
        ({"spark": {"cores": -2}}, "'spark.cores' must be a whole number of at least 0"),
    ],
)
def test_invalid_quota_documents_are_explained(document, words):
    with pytest.raises(QuotaError, match=None) as error:
        validate_quota_document(document, ["cpu", "gpu"], quota_sections())
    assert words in str(error.value)


def test_a_capability_declares_its_section_once():
    """A new capability's section is valid, defaulted and merged with no other change."""
    tpus = QuotaSection("tpus", {"chips": "TPU chips"}, default={"chips": 1})
    document = {"tpus": {"chips": 2}, "spark": {"cores": None}}
    assert validate_quota_document(document, ["cpu"], [*quota_sections(), tpus]) == document
    with pytest.raises(QuotaError, match="Unknown quota field 'tpus'"):
        validate_quota_document({"tpus": {"chips": 2}}, ["cpu"], quota_sections())
    assert tpus.refusal({"chips": 2}, {"chips": 1}, {"chips": 2}) == ("chips", 2, 1, 2)
    assert tpus.refusal({"chips": 2}, {"chips": 1}, {"chips": 1}) is None
    assert tpus.left({"chips": 2}, {"chips": 1}) == {"chips": 1}
    assert QuotaPolicy().quota_for([])["spark"]["clusters"] == 2  # spark's declared default


def test_partial_updates_merge_and_null_removes():
    stored = merge_override({}, {"cpu": {"daily_seconds": 10}, "storage_bytes": 5})
    stored = merge_override(stored, {"cpu": {"session_seconds": 3}})
    assert stored == {"cpu": {"daily_seconds": 10, "session_seconds": 3}, "storage_bytes": 5}
    stored = merge_override(stored, {"cpu": {"daily_seconds": None}, "storage_bytes": None})
    assert stored == {"cpu": {"session_seconds": 3}}


def test_rolling_window_counts_the_last_24_hours():
    intervals = [
        Interval(at(30), at(26)),  # entirely before the window
        Interval(at(25), at(23)),  # one hour inside
        Interval(at(2), at(1)),  # one hour
        Interval(at(0.5)),  # running: half an hour so far
    ]
    result = usage(intervals, ROLLING, 8 * H, NOW)
    assert result.used_seconds == int(2.5 * H)
    assert result.remaining_seconds == int(5.5 * H)
    # the oldest used second still counted (24 h ago) leaves the window right away
    assert result.resets_at == at(24) + timedelta(hours=24)


def test_rolling_window_with_no_usage_has_nothing_to_renew():
    result = usage([], ROLLING, 4 * H, NOW)
    assert (result.used_seconds, result.remaining_seconds, result.resets_at) == (0, 4 * H, None)


def test_daily_reset_at_a_fixed_time_in_a_time_zone():
    paris = ZoneInfo("Europe/Paris")
    rule = ResetRule("daily", time(14, 0), paris)  # 14:00 Paris = 13:00 UTC in November
    lo, hi = budget_window(rule, NOW)
    assert lo == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    assert hi == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    # 12:30-13:30 UTC yesterday: half of it after yesterday's 13:00 UTC reset
    intervals = [
        Interval(
            datetime(2026, 11, 24, 12, 30, tzinfo=UTC), datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
        )
    ]
    result = usage(intervals, rule, H, NOW)
    assert result.used_seconds == 30 * 60
    assert result.resets_at == hi
    # just after the reset the budget is whole again
    later = usage(intervals, rule, H, datetime(2026, 11, 25, 13, 0, 1, tzinfo=UTC))
    assert later.used_seconds == 0 and later.remaining_seconds == H


def test_daily_reset_keeps_its_wall_clock_hour_across_dst():
    rule = ResetRule("daily", time(9, 0), ZoneInfo("Europe/Paris"))
    # the night DST ends (2026-10-25): the next reset is still 09:00 local
    lo, hi = budget_window(rule, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert hi.astimezone(ZoneInfo("Europe/Paris")).hour == 9
    assert (hi - lo) == timedelta(hours=25)


def test_deadline_is_the_sooner_of_session_limit_and_budget_spent():
    by_session = session_deadline(NOW, 4 * H, NOW + timedelta(hours=6))
    assert (by_session.at, by_session.reason) == (NOW + timedelta(hours=4), "session_limit")
    by_budget = session_deadline(NOW, 4 * H, NOW + timedelta(hours=1))
    assert (by_budget.at, by_budget.reason) == (NOW + timedelta(hours=1), "daily_budget")
    unlimited = session_deadline(NOW, None, None)
    assert unlimited.at is None


def test_a_running_sessions_deadline_counts_from_its_start():
    started = at(1)
    deadline = session_deadline(started, 4 * H, NOW + timedelta(hours=10))
    assert deadline.at == started + timedelta(hours=4)


def test_a_session_and_a_job_spend_a_profile_budget_together():
    rule = ROLLING
    session = Interval(NOW, None)
    job = Interval(NOW, None)
    # 2 h left: alone a session runs 2 h; with a job beside it both stop after 1 h
    alone = profile_spent_at([Interval(at(6), at(4)), session], rule, 4 * H, NOW)
    assert alone == NOW + timedelta(hours=2)
    together = profile_spent_at([Interval(at(6), at(4)), session, job], rule, 4 * H, NOW)
    assert together == NOW + timedelta(hours=1)
    assert profile_spent_at([session, job], rule, None, NOW) is None
    assert profile_spent_at([Interval(at(2), at(1))], rule, H, NOW) is None  # nothing runs


@pytest.mark.parametrize(
    "seconds,text",
    [(4 * H, "4 h"), (5400, "1 h 30 min"), (45 * 60, "45 min"), (125, "2 min 5 s"), (20, "20 s")],
)
def test_durations_read_as_people_say_them(seconds, text):
    assert human_duration(seconds) == text
