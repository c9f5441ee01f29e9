"""The daily time budgets of the runtime profiles, shared by a user's lab sessions and
training jobs (`quota/profile_time.py`): what each profile's budget has left, refusals
once it is spent, and the deadline of every running session and job, all from the ledger.

Sessions keep a timer at their deadline (sessions.py); jobs are checked against theirs
each second (jobs.py). Both ask `deadlines` again whenever one of the user's sessions or
jobs starts or ends, and when an admin changes the user's quota or grants them time.

An admin's one-off grants (grants.py) add to a profile's `daily_seconds` for their budget
day only; they are counted here, not in the quota, which stays the permanent setting.
"""

from datetime import date, datetime, timedelta

from ..quota.grants import spent_with_grants
from ..quota.policy import QuotaPolicy
from ..quota.profile_time import PROFILE_KINDS
from ..quota.profiles import Profile, RuntimeProfiles
from ..quota.usage import Deadline, Interval, Usage, human_duration, session_deadline, usage, when
from .errors import Refused
from .grants import Grants
from .ledger import Ledger
from .models import LedgerEntry

BUDGET_REASON = "daily_budget"
# old use that is still in a rolling window, at most a day back, plus a margin
LOOK_BACK = timedelta(days=2)


class ProfileTime:
    def __init__(
        self,
        ledger: Ledger,
        policy: QuotaPolicy,
        profiles: RuntimeProfiles,
        now,
        grants: Grants,
    ):
        self.ledger = ledger
        self.policy = policy
        self.profiles = profiles
        self.now = now
        self.grants = grants

    def granted(self, user: str, now: datetime | None = None) -> dict[str, int]:
        """Seconds granted per profile for the budget day containing now."""
        today = self.grants.today(now or self.now())
        return {
            profile: days[today]
            for profile, days in self.grants.per_day(user, today).items()
            if today in days
        }

    def _daily(self, limits: dict, granted: int) -> int | None:
        """A profile's daily budget with the day's grants (None: no budget)."""
        daily = limits.get("daily_seconds")
        return None if daily is None else daily + granted

    def intervals(self, user: str, now: datetime) -> dict[str, list[Interval]]:
        """Run time of the user's sessions and jobs, per profile."""
        merged: dict[str, list[Interval]] = {}
        for kind in PROFILE_KINDS:
            for profile, found in self.ledger.intervals(user, kind, now - LOOK_BACK).items():
                merged.setdefault(profile, []).extend(found)
        return merged

    def usage_for(self, user: str, quota: dict, now: datetime | None = None) -> dict[str, Usage]:
        """Time used per profile (sessions and jobs) in the current budget window;
        what remains counts today's grants."""
        now = now or self.now()
        per_profile = self.intervals(user, now)
        granted = self.granted(user, now)
        return {
            name: usage(
                per_profile.get(name, []),
                self.policy.reset_rule,
                self._daily(quota.get(name) or {}, granted.get(name, 0)),
                now,
            )
            for name in self.profiles.names()
        }

    # -- refusing -------------------------------------------------------------------------
    def check(self, user: str, profile: Profile, quota: dict) -> None:
        """Refused when the profile's daily time is used up, or the user has none."""
        limits = quota.get(profile.name) or {}
        now = self.now()
        spent = self.usage_for(user, quota, now)[profile.name]
        daily = limits.get("daily_seconds")
        if daily is not None and spent.remaining_seconds == 0:
            granted = self.granted(user, now).get(profile.name, 0)
            if daily + granted == 0:
                # nothing to renew: "0 s of 0 s, renews tomorrow" would promise time
                raise Refused(self.no_time_message(profile), "quota_exceeded")
            raise Refused(
                self.spent_message(profile, spent, limits, now, granted), "quota_exceeded"
            )
        if limits.get("session_seconds") == 0:
            raise Refused(self.no_time_message(profile), "quota_exceeded")

    def no_time_message(self, profile: Profile) -> str:
        return f"You have no {profile.display_name} time. Ask an admin for a quota."

    def spent_message(
        self, profile: Profile, spent: Usage, limits: dict, now: datetime, granted: int = 0
    ) -> str:
        """'CPU time used up for today: 8 h of 8 h. It renews at 09:14 UTC.'
        (with a grant: '10 h of 10 h (2 h granted today)')"""
        daily = self._daily(limits, granted)
        renews = (
            f" It renews at {when(spent.resets_at, self.policy.reset_rule.zone, now)}."
            if spent.resets_at
            else ""
        )
        # a stop lands a moment after the deadline: say "4 h of 4 h", not 4 h 0 min 1 s
        used = human_duration(min(spent.used_seconds, daily))
        extra = f" ({human_duration(granted)} granted today)" if granted else ""
        return (
            f"{profile.display_name} time used up for today: {used} of "
            f"{human_duration(daily)}{extra}.{renews}"
        )

    def stop_message(self, user: str, profile_name: str, quota: dict) -> str:
        """Why a job was stopped by its profile's daily budget."""
        profile = self.profiles.get(profile_name)
        limits = quota.get(profile_name) or {}
        if profile is None or limits.get("daily_seconds") is None:
            return "Daily time used up: stopped automatically."
        now = self.now()
        spent = self.usage_for(user, quota, now)[profile_name]
        granted = self.granted(user, now).get(profile_name, 0)
        message = self.spent_message(profile, spent, limits, now, granted)
        return f"{message} Stopped automatically."

    # -- deadlines ------------------------------------------------------------------------
    def deadlines(self, user: str, quota: dict) -> list[LedgerEntry]:
        """Record the deadline of each of the user's running sessions and jobs: when the
        ones running now will have spent their profile's daily time (for a session also
        its length limit, the sooner). A grant counts on its own day only. Returns the
        entries as updated."""
        now = self.now()
        per_profile = self.intervals(user, now)
        rule = self.policy.reset_rule
        grants: dict[str, dict[date, int]] = self.grants.per_day(user, self.grants.today(now))
        updated = []
        for kind in PROFILE_KINDS:
            for entry in self.ledger.open_entries(kind, user):
                limits = quota.get(entry.profile) or {}
                budget_at = spent_with_grants(
                    per_profile.get(entry.profile, []),
                    rule,
                    limits.get("daily_seconds"),
                    grants.get(entry.profile, {}),
                    now,
                )
                if kind == "session":
                    deadline = session_deadline(
                        entry.started, limits.get("session_seconds"), budget_at
                    )
                else:
                    deadline = Deadline(budget_at, budget_at and BUDGET_REASON)
                updated.append(self.ledger.set_deadline(entry.id, deadline.at, deadline.reason))
        return updated
