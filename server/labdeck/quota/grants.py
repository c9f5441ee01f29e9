"""One-off time grants: extra seconds on a profile's daily budget for one budget day.

A grant for day D adds to `daily_seconds` while the clock is within D's budget day:
with a daily reset, [D at reset time, D+1 at reset time) in the policy's time zone;
with a rolling window, the calendar day [D 00:00, D+1 00:00) in that zone. When the day
ends the grant is gone, so a deadline it pushed past the day's end comes back to the
day's end (or later, if the budget without it lasts longer).

Pure functions of (intervals, the reset rule, grants per day, now): no clock is read here.
"""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

from .policy import ResetRule
from .profile_time import spent_at
from .usage import Interval

ONE_DAY = timedelta(days=1)
# how far ahead grants can change a deadline: as far as a deadline is looked for at all
HORIZON = timedelta(days=2)


def _day_start(rule: ResetRule) -> time:
    return rule.at if rule.mode == "daily" else time(0, 0)


def budget_day(rule: ResetRule, moment: datetime) -> date:
    """The budget day that contains `moment`."""
    local = moment.astimezone(rule.zone)
    day = local.date()
    if local.time() < _day_start(rule):
        day -= ONE_DAY
    return day


def day_bounds(rule: ResetRule, day: date) -> tuple[datetime, datetime]:
    """[start, end) of a budget day, in UTC (in local wall time, so DST keeps the hour)."""
    at = _day_start(rule)
    start = datetime.combine(day, at, tzinfo=rule.zone)
    end = datetime.combine(day + ONE_DAY, at, tzinfo=rule.zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def granted_at(rule: ResetRule, grants: Mapping[date, int], moment: datetime) -> int:
    """Seconds granted for the budget day containing `moment`."""
    return grants.get(budget_day(rule, moment), 0)


def spent_with_grants(
    intervals: list[Interval],
    rule: ResetRule,
    daily_seconds: int | None,
    grants: Mapping[date, int],
    now: datetime,
) -> datetime | None:
    """When the running intervals will have spent the daily budget, each budget day's
    grants added to it on that day only; None without a budget or when nothing runs.

    Day by day from now: the budget of the day the clock is in holds until the day ends,
    then the next day's (with its own grants, or none) is checked from that moment on.
    """
    if daily_seconds is None:
        return None
    horizon = now + HORIZON
    moment = now
    while True:
        day = budget_day(rule, moment)
        extra = grants.get(day, 0)
        at = spent_at(intervals, rule, daily_seconds + extra, moment)
        end = day_bounds(rule, day)[1]
        later = any(d > day and day_bounds(rule, d)[0] < horizon for d in grants)
        if not extra and not later:
            return at  # no grant from here on: the plain budget decides
        if at is not None and at < end:
            return at
        if at is None and not any(i.end is None for i in intervals):
            return None  # nothing runs
        moment = end
