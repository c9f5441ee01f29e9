"""Time on a runtime profile: a user's lab sessions and training jobs on one profile
share its daily budget (`daily_seconds`), each counting its own run time, so a session
and a job running side by side spend it twice as fast.

Pure functions of (intervals, the reset rule, now): no clock is read here.
"""

from datetime import datetime

from .budget import spent_at as core_spent_at
from .policy import ResetRule
from .usage import Interval

# the ledger kinds whose run time counts against a profile's daily budget
PROFILE_KINDS = ("session", "job")


def spent_at(
    intervals: list[Interval], rule: ResetRule, daily_seconds: int | None, now: datetime
) -> datetime | None:
    """When the running intervals will have spent the daily budget, each running one
    using a second per second; None without a budget or when nothing runs."""
    if daily_seconds is None:
        return None
    each_one = [Interval(i.start, i.end, 1) for i in intervals]
    return core_spent_at(each_one, rule, daily_seconds, now)
