"""Idle culling: a lab session whose server showed no activity for its profile's
`idle_seconds` is stopped (ledger reason `idle`), with a warning first.

Activity is the hub's own, read as jupyterhub-idle-culler reads it: each ready server's
`last_activity`, which the lab's server reports (kernels, terminals, API calls) and the
hub's proxy updates (traffic to the lab). labdeck keeps no activity record of its own.
"""

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from traitlets import Float
from traitlets.config import LoggingConfigurable

from .hub_client import HubClient
from .models import LedgerEntry
from .sessions import KIND, SessionManager

WARN = "warn"
STOP = "stop"


def idle_action(idle: float, idle_seconds: int | None, warn_before: float) -> str | None:
    """What a session idle for `idle` seconds is due: STOP, WARN or nothing."""
    if not idle_seconds:
        return None
    if idle >= idle_seconds:
        return STOP
    if idle >= idle_seconds - warn_before:
        return WARN
    return None


def duration(seconds: float, up: bool = False) -> str:
    """'55 min', '1 h 5 min', '12 s' (whole units, rounded down unless `up`)."""
    whole = math.ceil if up else math.floor
    seconds = max(seconds, 0)
    if seconds < 60:
        return f"{whole(seconds)} s"
    minutes = whole(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def warning_sentence(idle: float, left: float) -> str:
    return (
        f"No activity for {duration(idle)}; this session stops in "
        f"{duration(left, up=True)} unless you use it."
    )


def parse_time(value: str | None) -> datetime | None:
    # the hub writes ISO 8601 with a trailing Z
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class IdleWarning:
    issued_at: datetime
    # the activity it was issued on: once the hub reports newer, it is withdrawn
    last_activity: datetime


@dataclass(frozen=True)
class IdleStatus:
    """What `me` says of a session's idle timeout."""

    idle_seconds: int
    last_activity: datetime | None
    stops_at: datetime
    warning: str | None
    warned_at: datetime | None

    def to_json(self) -> dict:
        return {
            "idle_seconds": self.idle_seconds,
            "last_activity": self.last_activity and self.last_activity.isoformat(),
            "stops_at": self.stops_at.isoformat(),
            "warning": self.warning,
            "warned_at": self.warned_at and self.warned_at.isoformat(),
        }


class IdleCuller(LoggingConfigurable):
    """Stops lab sessions left idle past their runtime profile's `idle_seconds`."""

    check_seconds = Float(
        60,
        help="""How often (seconds) to read the servers' last activity from the hub.
        A session is warned and stopped up to this late. The hub itself learns of
        activity every $JUPYTERHUB_ACTIVITY_INTERVAL (what the lab's server reports).""",
    ).tag(config=True)

    warn_before_seconds = Float(
        300,
        help="""How long (seconds) before an idle stop the lab warns its user. The warning
        is withdrawn once the hub reports new activity.""",
    ).tag(config=True)

    def __init__(self, sessions: SessionManager, hub: HubClient, **kwargs):
        super().__init__(**kwargs)
        self.sessions, self.hub = sessions, hub
        self.now = sessions.now
        # per session id: the last activity the hub reported, and the warning given
        self._activity: dict[int, datetime] = {}
        self._warnings: dict[int, IdleWarning] = {}
        self._stopping: dict[int, asyncio.Task] = {}
        self._task: asyncio.Task | None = None

    def idle_seconds(self, session: LedgerEntry) -> int | None:
        profile = self.sessions.profiles.get(session.profile)
        return profile.idle_seconds if profile else None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def shutdown(self) -> None:
        for task in [self._task, *self._stopping.values()]:
            if task:
                task.cancel()

    async def _loop(self) -> None:
        while True:
            try:
                await self.check()
            except Exception as e:
                # the hub may be restarting: the next round asks again
                self.log.warning("Idle check failed: %s", e)
            await asyncio.sleep(self.check_seconds)

    # -- the check ------------------------------------------------------------------------
    async def check(self) -> None:
        """Warn or stop every open session that has been idle long enough."""
        servers = {(user, name): model for user, name, model in await self.hub.ready_servers()}
        now = self.now()
        sessions = self.sessions.ledger.open_entries(KIND)
        for session in sessions:
            limit = self.idle_seconds(session)
            model = servers.get((session.user, session.resource_id))
            if not limit or model is None:
                continue  # never culled, or not ready yet: no activity to judge
            reported = parse_time(model.get("last_activity") or model.get("started"))
            # a session is not idle since before it began (the hub may remember an
            # earlier server's activity)
            last = max(reported or session.started, session.started)
            self._activity[session.id] = last
            self._judge(session, limit, last, now)
        open_ids = {session.id for session in sessions}
        for table in (self._activity, self._warnings):
            for session_id in set(table) - open_ids:
                del table[session_id]

    def _judge(self, session: LedgerEntry, limit: int, last: datetime, now: datetime) -> None:
        warning = self._warnings.get(session.id)
        if warning and last > warning.last_activity:
            del self._warnings[session.id]
            self.log.info("Session %s of %s is active again", session.id, session.user)
        idle = (now - last).total_seconds()
        action = idle_action(idle, limit, self.warn_before_seconds)
        if action == WARN and session.id not in self._warnings:
            self._warnings[session.id] = IdleWarning(now, last)
            self.log.info(
                "Session %s of %s idle for %s: it stops at %s unless used",
                session.id,
                session.user,
                duration(idle),
                (last + timedelta(seconds=limit)).isoformat(timespec="seconds"),
            )
        elif action == STOP and session.id not in self._stopping:
            who = (session.id, session.user, duration(idle))
            self.log.info("Session %s of %s idle for %s: stopping it", *who)
            due = last + timedelta(seconds=limit)  # for the enforcement-lag metric
            task = asyncio.create_task(self.sessions.stop(session.id, "idle", due=due))
            self._stopping[session.id] = task
            task.add_done_callback(lambda _, sid=session.id: self._stopping.pop(sid, None))

    # -- what `me` shows ------------------------------------------------------------------
    def status(self, session: LedgerEntry) -> IdleStatus | None:
        """The session's idle timeout, when it stops unless used, and the warning once
        it was given; None when its profile is never culled."""
        limit = self.idle_seconds(session)
        if not limit:
            return None
        last = self._activity.get(session.id)
        since = last or session.started
        stops_at = since + timedelta(seconds=limit)
        warning = self._warnings.get(session.id)
        now = self.now()
        return IdleStatus(
            idle_seconds=limit,
            last_activity=last,
            stops_at=stops_at,
            warning=warning
            and warning_sentence((now - since).total_seconds(), (stops_at - now).total_seconds()),
            warned_at=warning and warning.issued_at,
        )
