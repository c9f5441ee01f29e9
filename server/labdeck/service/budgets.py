"""The daily budget of core time of one kind of resource (Spark clusters' cores,
deployments' replicas), enforced while they run.

A kind whose quota section names a `budget` field (Spark's `daily_core_seconds`) has
creation refused once the owner's budget is spent, and one timer per user set at the
moment their running resources' cores (the manager's `ledger_cores`) will have spent
it (`quota/budget.py`, from the ledger's intervals, rolling or daily windows). The timer
moves when a resource starts or stops and when an admin changes the quota, is computed
again after a restart, is written as the ledger entries' `deadline`, and stops all of
the user's resources of the kind with the ledger reason `daily_budget`.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..quota.budget import CoreBudget, core_budget
from ..quota.policy import QuotaPolicy, ResetRule
from ..quota.usage import DAY, human_duration, when
from .errors import Refused
from .models import RUNNING, STARTING, Resource

if TYPE_CHECKING:
    from .resources import ResourceManager

# the ledger's deadline and stop reason when a daily budget runs out (as for sessions)
BUDGET_REASON = "daily_budget"
# when the user's quota cannot be read (the hub is away), try again this much later
RETRY_SECONDS = 5.0
# a timer that fires this close before the deadline counts as on time
SLACK_SECONDS = 0.05


@dataclass(frozen=True)
class QuotaAccess:
    """How a manager reads its users' quotas when no request is at hand (a budget timer,
    a restart): the policy (when budgets renew, when to warn) and one section of a user's
    effective quota, `await limits(user, section)`."""

    policy: QuotaPolicy
    limits: Callable[[str, str], Awaitable[dict]]


class CoreTimeBudget:
    """The daily core time of one manager's kind, for each of its users.

    Without `quotas` budgets are still checked at creation, but no timer stops resources.
    """

    def __init__(self, manager: "ResourceManager", quotas: QuotaAccess | None):
        self.manager = manager
        self.quotas = quotas
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()
        self._closing = False

    # -- reading --------------------------------------------------------------------------
    @property
    def enabled(self) -> bool:
        quota = self.manager.quota
        return quota is not None and quota.budget is not None

    @property
    def title(self) -> str:
        """Whose core time, for messages: "Spark"."""
        return self.manager.budget_title or self.manager.noun.capitalize()

    @property
    def reset_rule(self) -> ResetRule:
        return self.quotas.policy.reset_rule if self.quotas else ResetRule("rolling")

    def limit(self, limits: dict) -> int | None:
        """The daily core-seconds in a user's section limits (None: no limit)."""
        return limits.get(self.manager.quota.budget) if self.enabled else None

    def usage(self, user: str, limit: int | None, now: datetime | None = None) -> CoreBudget:
        """The user's core time of this kind: used in the current window, and when what
        runs now will have spent `limit`; from the ledger, so it survives a restart."""
        now = now or self.manager.now()
        per_profile = self.manager.ledger.intervals(user, self.manager.kind, now - 2 * DAY)
        intervals = [interval for group in per_profile.values() for interval in group]
        return core_budget(intervals, self.reset_rule, limit, now)

    def message(self, budget: CoreBudget, now: datetime) -> str:
        """'Spark core time used up for today: 16 h of 16 h. It renews at 09:14 UTC.'"""
        renews = (
            f" It renews at {when(budget.resets_at, self.reset_rule.zone, now)}."
            if budget.resets_at
            else ""
        )
        # a stop lands a moment after the deadline: say "4 h of 4 h", not 4 h 0 min 1 s
        used = human_duration(min(budget.used, budget.limit))
        return (
            f"{self.title} {self.manager.budget_unit} used up for today: {used} of "
            f"{human_duration(budget.limit)}.{renews}"
        )

    def deadline(self, resource: Resource) -> tuple[datetime | None, str | None]:
        """When a running resource will be stopped by its owner's budget, and why."""
        if resource.state != RUNNING or resource.ledger_id is None:
            return None, None
        entry = self.manager.ledger.get(resource.ledger_id)
        return (entry.deadline, entry.deadline_reason) if entry else (None, None)

    # -- refusing -------------------------------------------------------------------------
    def check(self, user: str, limits: dict) -> None:
        """Refused when the user's daily core time of this kind is used up."""
        limit = self.limit(limits)
        if limit is None:
            return
        if limit == 0:
            raise Refused(
                f"You have no {self.title} {self.manager.budget_unit}. Ask an admin for a quota.",
                "quota_exceeded",
            )
        now = self.manager.now()
        budget = self.usage(user, limit, now)
        if budget.spent:
            raise Refused(self.message(budget, now), "quota_exceeded")

    async def check_user(self, user: str) -> None:
        """check with the user's limits looked up: no new work on a resource once its
        owner's core time is spent (it is being stopped)."""
        if self.enabled and self.quotas is not None:
            self.check(user, await self.quotas.limits(user, self.manager.quota.name))

    # -- the timers -----------------------------------------------------------------------
    async def quota_changed(self, user: str, quota: dict) -> None:
        """An admin changed the user's quota (its effective document): move the deadline."""
        if self.enabled:
            await self.reschedule(user, dict(quota.get(self.manager.quota.name) or {}))

    async def reschedule(self, user: str, limits: dict | None = None) -> None:
        """Set, move or drop the timer that stops the user's resources of this kind when
        their running cores have spent the day's core time, and record that deadline in
        their open ledger entries. Limits are looked up when not given."""
        if not self.enabled:
            return
        if limits is None:
            if self.quotas is None:
                return
            limits = await self.quotas.limits(user, self.manager.quota.name)
        now = self.manager.now()
        budget = self.usage(user, self.limit(limits), now)
        ledger = self.manager.ledger
        entries = ledger.open_entries(self.manager.kind, user)
        deadline = budget.deadline if entries else None
        for entry in entries:
            ledger.set_deadline(entry.id, deadline, deadline and BUDGET_REASON)
        self._set_timer(user, deadline, now)

    async def update(self, user: str) -> None:
        """What runs changed: compute the user's deadline again now."""
        if self.enabled and self.quotas is not None and not self._closing:
            await self._reschedule_or_retry(user)

    def changed(self, user: str) -> None:
        """What runs changed: compute the user's deadline again, in the background."""
        if self.enabled and self.quotas is not None and not self._closing:
            self._background(self._reschedule_or_retry(user))

    def close(self) -> None:
        """labdeck is stopping: no timer fires any more."""
        self._closing = True
        for timer in self._timers.values():
            timer.cancel()
        for task in list(self._tasks):
            task.cancel()

    def _set_timer(self, user: str, at: datetime | None, now: datetime) -> None:
        old = self._timers.pop(user, None)
        if old is not None:
            old.cancel()
        if at is None or self._closing or self.quotas is None:
            return
        delay = max((at - now).total_seconds(), 0)
        self._timers[user] = asyncio.get_running_loop().call_later(
            delay, lambda: self._background(self._due(user))
        )

    def _retry_later(self, user: str) -> None:
        now = self.manager.now()
        self._set_timer(user, now + timedelta(seconds=RETRY_SECONDS), now)

    async def _reschedule_or_retry(self, user: str) -> None:
        try:
            await self.reschedule(user)
        except Exception:
            self.manager.log.exception("Budget of %s's %ss: trying again", user, self.manager.noun)
            self._retry_later(user)

    async def _due(self, user: str) -> None:
        """The timer fired: stop the user's resources if their core time is spent, else
        set it again (old use left a rolling window, a quota grew, or the hub was away)."""
        manager = self.manager
        try:
            limits = await self.quotas.limits(user, manager.quota.name)
        except Exception:
            manager.log.exception("Reading %s's quota failed: trying again", user)
            self._retry_later(user)
            return
        now = manager.now()
        budget = self.usage(user, self.limit(limits), now)
        if budget.deadline is None or budget.deadline > now + timedelta(seconds=SLACK_SECONDS):
            await self.reschedule(user, limits)
            return
        self._timers.pop(user, None)
        reason = f"{self.message(budget, now)} Terminated automatically."
        doomed = [r for r in manager.live(user) if r.state in (STARTING, RUNNING)]
        manager.log.info(
            "%s's core time is spent: terminating %d %s(s)", user, len(doomed), manager.noun
        )
        await asyncio.gather(
            *(manager.terminate(r.id, reason, ledger_reason=BUDGET_REASON) for r in doomed)
        )

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.manager.log.error(
                "Enforcing a %s budget failed", self.manager.noun, exc_info=task.exception()
            )
