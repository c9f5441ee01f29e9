"""Daily budgets of core time: how much of it a user's resources used, and when the
resources running now will have spent the rest.

A resource with 4 cores that runs 1 h uses 4 h of core time. Pure functions of
(intervals with their cores, the reset rule, now): no clock is read here.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from .policy import ResetRule
from .usage import DAY, Interval, budget_window

# Looking this far ahead is enough: a rolling window holds only what runs now after a
# day, and a daily window that starts within a day and does not run out never will.
HORIZON = 2 * DAY


def core_seconds(intervals: Iterable[Interval], lo: datetime, hi: datetime, now: datetime) -> float:
    """Core time the intervals used within [lo, hi), counting open ones up to now."""
    return sum(i.overlap(lo, hi, now) * (i.cores or 0) for i in intervals)


@dataclass(frozen=True)
class CoreBudget:
    used: int  # core-seconds used in the current window (a started second counts)
    limit: int | None  # None: no budget
    resets_at: datetime | None  # when used core time starts to come back
    # when the resources running now will have spent it all (None: never, or no budget)
    deadline: datetime | None

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    @property
    def spent(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def core_budget(
    intervals: list[Interval], rule: ResetRule, limit: int | None, now: datetime
) -> CoreBudget:
    """Where a user stands against a daily budget of `limit` core-seconds at `now`."""
    lo, hi = budget_window(rule, now)
    used = math.ceil(core_seconds(intervals, lo, hi, now) - 1e-6)
    if rule.mode == "daily":
        resets_at = hi
    else:
        # the oldest core-second still in the window leaves it a day after it was used
        starts = [max(i.start, lo) for i in intervals if i.cores and i.overlap(lo, hi, now) > 0]
        resets_at = min(starts) + DAY if starts else None
    deadline = None if limit is None else spent_at(intervals, rule, limit, now)
    return CoreBudget(used, limit, resets_at, deadline)


def spent_at(
    intervals: list[Interval], rule: ResetRule, limit: int, now: datetime
) -> datetime | None:
    """The first moment from now on when the window holds `limit` core-seconds, if the
    open intervals keep running on their cores; None if that never happens (or nothing
    runs).

    Between two breakpoints (a reset; in a rolling window, a day after an interval began
    or ended) the core time in the window grows or shrinks linearly, so the moment is
    found segment by segment.
    """
    if not any(i.end is None and i.cores for i in intervals):
        return None  # nothing runs: nothing is spent, and there is nothing to stop
    if core_seconds(intervals, *budget_window(rule, now), now) >= limit:
        return now
    end = now + HORIZON
    points = {now, end}
    if rule.mode == "rolling":
        for i in intervals:
            points.update(t + DAY for t in (i.start, i.end) if t is not None)
    else:
        reset = budget_window(rule, now)[1]
        while reset < end:
            points.add(reset)
            reset = budget_window(rule, reset)[1]
    for a, b in pairwise(sorted(p for p in points if now <= p <= end)):
        # a daily window stays the one that holds a up to b, where the next one begins
        window = budget_window(rule, a) if rule.mode == "daily" else None
        at_a, at_b = (_in_window(intervals, rule, window, t) for t in (a, b))
        if at_a >= limit:
            return a
        if at_b >= limit:
            return a + (b - a) * ((limit - at_a) / (at_b - at_a))
    return None


def _in_window(
    intervals: list[Interval],
    rule: ResetRule,
    window: tuple[datetime, datetime] | None,
    t: datetime,
) -> float:
    lo, hi = window or (t - DAY, t)
    return core_seconds(intervals, lo, hi, t)
