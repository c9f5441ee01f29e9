"""One-off time grants: an admin's "two more hours today" on a user's runtime profile.

A grant adds its seconds to the profile's daily budget for one budget day only
(`quota.grants`); the permanent change stays the quota override (quotas.py). Grants are
read by ProfileTime, which counts them wherever the daily budget counts.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from ..quota.grants import budget_day, day_bounds
from ..quota.policy import QuotaPolicy
from .db import Database
from .errors import Invalid
from .models import TimeGrant, utcnow

MIN_SECONDS = 60
MAX_SECONDS = 24 * 3600
MAX_NOTE = 500
# a grant may be planned ahead, but not for a date nobody will remember
MAX_DAYS_AHEAD = 366
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIELDS = ("profile", "seconds", "note", "date")


@dataclass(frozen=True)
class GrantRequest:
    profile: str
    seconds: int
    note: str
    day: date


def grant_json(grant: TimeGrant) -> dict:
    return {
        "id": grant.id,
        "user": grant.user,
        "profile": grant.profile,
        "seconds": grant.seconds,
        "date": grant.day.isoformat(),
        "note": grant.note,
        "granted_by": grant.granted_by,
        "granted_at": grant.granted_at.isoformat(),
    }


class Grants:
    def __init__(self, db: Database, policy: QuotaPolicy, now=utcnow):
        self.db = db
        self.policy = policy
        self.now = now

    def today(self, now: datetime | None = None) -> date:
        """The budget day that contains now."""
        return budget_day(self.policy.reset_rule, now or self.now())

    # -- asking for one -------------------------------------------------------------------
    def validate(self, body: dict, quota: dict, profiles: Iterable[str]) -> GrantRequest:
        """A grant request checked against the user's quota; Invalid saying what is wrong.

        Only a profile with a daily limit can get more of it (without one there is
        nothing to add to)."""
        unknown = sorted(set(body) - set(FIELDS))
        if unknown:
            raise _invalid(f"Unknown field(s): {', '.join(unknown)}. Use {', '.join(FIELDS)}.")
        profiles = list(profiles)
        profile = body.get("profile")
        if not isinstance(profile, str) or profile not in profiles:
            raise _invalid(f"'profile' must be one of: {', '.join(profiles)}.")
        if (quota.get(profile) or {}).get("daily_seconds") is None:
            raise _invalid(
                f"This user has no daily limit on {profile}: there is no time to add to."
            )
        seconds = body.get("seconds")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not MIN_SECONDS <= seconds <= MAX_SECONDS
        ):
            raise _invalid(
                f"'seconds' must be a whole number from {MIN_SECONDS} to {MAX_SECONDS} "
                "(1 minute to 24 hours)."
            )
        note = body.get("note")
        if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE:
            raise _invalid(
                f"'note' must say why, in 1 to {MAX_NOTE} characters "
                "(e.g. 'extra lab time before the exam')."
            )
        return GrantRequest(profile, seconds, note.strip(), self._day(body.get("date")))

    def _day(self, value) -> date:
        today = self.today()
        if value is None:
            return today
        try:
            # only YYYY-MM-DD, not the other forms fromisoformat reads (2026-W48-3)
            if not isinstance(value, str) or not DATE.fullmatch(value):
                raise ValueError
            day = date.fromisoformat(value)
        except ValueError as e:
            raise _invalid(f"'date' must be a date like 2026-11-25, not {value!r}.") from e
        if day < today:
            raise _invalid(f"'date' must be today ({today.isoformat()}) or later.")
        if day > today + timedelta(days=MAX_DAYS_AHEAD):
            raise _invalid(f"'date' must be at most {MAX_DAYS_AHEAD} days ahead.")
        return day

    # -- the record -----------------------------------------------------------------------
    def add(self, user: str, request: GrantRequest, by: str) -> TimeGrant:
        with self.db.session() as db:
            grant = TimeGrant(
                user=user,
                profile=request.profile,
                seconds=request.seconds,
                day=request.day,
                note=request.note,
                granted_by=by,
                granted_at=self.now(),
            )
            db.add(grant)
            db.flush()
            return grant

    def revoke(self, user: str, grant_id: int) -> bool:
        """Remove one of the user's grants; False when they have none with that id."""
        with self.db.session() as db:
            result = db.execute(
                delete(TimeGrant).where(TimeGrant.id == grant_id, TimeGrant.user == user)
            )
            return result.rowcount > 0

    def for_user(self, user: str, since: date | None = None) -> list[TimeGrant]:
        """The user's grants (for days from `since` on), newest first."""
        query = select(TimeGrant).where(TimeGrant.user == user)
        if since is not None:
            query = query.where(TimeGrant.day >= since)
        with self.db.session() as db:
            return list(db.scalars(query.order_by(TimeGrant.id.desc())).all())

    def on_day(self, user: str, day: date) -> list[TimeGrant]:
        return [g for g in self.for_user(user, since=day) if g.day == day]

    def per_day(self, user: str, since: date) -> dict[str, dict[date, int]]:
        """Seconds granted per profile and budget day, for days from `since` on."""
        table: dict[str, dict[date, int]] = {}
        for grant in self.for_user(user, since):
            days = table.setdefault(grant.profile, {})
            days[grant.day] = days.get(grant.day, 0) + grant.seconds
        return table

    def in_period(
        self, since: datetime, until: datetime, users: set[str] | None = None
    ) -> list[TimeGrant]:
        """Grants whose budget day begins within [since, until), oldest day first (each
        grant falls in exactly one of back-to-back periods)."""
        rule = self.policy.reset_rule
        first, last = budget_day(rule, since) - timedelta(days=1), budget_day(rule, until)
        with self.db.session() as db:
            rows = db.scalars(
                select(TimeGrant)
                .where(TimeGrant.day >= first, TimeGrant.day <= last)
                .order_by(TimeGrant.day, TimeGrant.id)
            ).all()
        return [
            g
            for g in rows
            if since <= day_bounds(rule, g.day)[0] < until and (users is None or g.user in users)
        ]


def _invalid(message: str) -> Invalid:
    return Invalid(message, "invalid_grant")
