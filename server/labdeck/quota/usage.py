"""Usage accounting from the ledger: used and remaining time in the current budget window.

Pure functions of (intervals, now): no clock is read here, so tests can use any time.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .policy import ResetRule

DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Interval:
    """Time a session or resource ran: end is None while it still runs."""

    start: datetime
    end: datetime | None = None
    cores: int | None = None  # what it held while it ran, for budgets of core time

    def overlap(self, lo: datetime, hi: datetime, now: datetime) -> float:
        end = min(self.end or now, now)
        seconds = (min(end, hi) - max(self.start, lo)).total_seconds()
        return max(seconds, 0.0)


def budget_window(rule: ResetRule, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the budget window that contains now.

    Rolling: the last 24 hours (its end is now). Daily: from the last reset to the next.
    """
    if rule.mode == "rolling":
        return now - DAY, now
    local = now.astimezone(rule.zone)
    reset = local.replace(hour=rule.at.hour, minute=rule.at.minute, second=0, microsecond=0)
    if reset > local:
        reset -= DAY
    # Add a day in local wall time, so a DST change does not shift the reset hour.
    next_reset = (reset.replace(tzinfo=None) + DAY).replace(tzinfo=rule.zone)
    # In UTC: arithmetic between two times of one ZoneInfo ignores DST offsets.
    return reset.astimezone(UTC), next_reset.astimezone(UTC)


def used_seconds(intervals: Iterable[Interval], lo: datetime, hi: datetime, now: datetime) -> float:
    return sum(i.overlap(lo, hi, now) for i in intervals)


@dataclass(frozen=True)
class Usage:
    used_seconds: int
    remaining_seconds: int | None  # None: no daily budget
    resets_at: datetime | None  # when used time starts to come back

    def to_json(self) -> dict:
        return {
            "used_seconds": self.used_seconds,
            "remaining_seconds": self.remaining_seconds,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
        }


def usage(
    intervals: list[Interval], rule: ResetRule, daily_seconds: int | None, now: datetime
) -> Usage:
    """Used and remaining seconds of a daily budget at `now`."""
    lo, hi = budget_window(rule, now)
    # Whole seconds, rounded up: a started second counts as used.
    used = math.ceil(used_seconds(intervals, lo, hi, now) - 1e-6)
    remaining = None if daily_seconds is None else max(daily_seconds - used, 0)
    if rule.mode == "daily":
        resets_at = hi
    else:
        # The oldest second still in the window leaves it 24 h after it was used.
        starts = [max(i.start, lo) for i in intervals if i.overlap(lo, hi, now) > 0]
        resets_at = min(starts) + DAY if starts else None
    return Usage(used, remaining, resets_at)


@dataclass(frozen=True)
class Deadline:
    at: datetime | None  # None: no limit
    reason: str | None  # "session_limit" or "daily_budget"


def session_deadline(
    started: datetime,
    session_seconds: int | None,
    budget_spent_at: datetime | None,
) -> Deadline:
    """When a session must stop: the sooner of its length limit and the moment its
    profile's daily budget is spent (`profile_time.spent_at`)."""
    candidates = []
    if session_seconds is not None:
        candidates.append((started + timedelta(seconds=session_seconds), "session_limit"))
    if budget_spent_at is not None:
        candidates.append((budget_spent_at, "daily_budget"))
    if not candidates:
        return Deadline(None, None)
    at, reason = min(candidates, key=lambda c: c[0])
    return Deadline(at, reason)


def human_duration(seconds: float) -> str:
    """'4 h', '1 h 30 min', '45 min', '20 s' - how people say durations."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    if minutes:
        return f"{minutes} min" if not secs or minutes >= 10 else f"{minutes} min {secs} s"
    return f"{secs} s"


def when(at: datetime, zone, now: datetime) -> str:
    """'14:00 UTC', '14:00 UTC tomorrow' or '14:00 UTC on 2026-11-27', as people say it."""
    local, today = at.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M:%S" if local.second else "%H:%M") + local.strftime(" %Z")
    if local.date() == today:
        return clock
    if local.date() == today + timedelta(days=1):
        return f"{clock} tomorrow"
    return f"{clock} on {local.date().isoformat()}"
