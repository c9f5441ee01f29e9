"""Lab sessions: quota checks at spawn, GPU assignment, ledger entries and enforcement.

The hub's spawner asks `begin` before it starts a server and calls `end` when the
server is gone. Between the two the session's ledger entry (kind `session`, resource id
the server's name) is open and the manager holds a timer at its deadline; when it fires
it records why and asks the hub to stop the server.
"""

import asyncio
from dataclasses import dataclass
from datetime import datetime

from ..quota.profiles import Profile
from ..quota.usage import Usage
from .errors import Conflict, Invalid
from .gpus import GPUPool
from .grants import Grants
from .hub_client import HubClient, HubError
from .models import LedgerEntry, ServiceState
from .platform import Platform
from .profile_time import ProfileTime
from .quotas import Quotas

END_REASONS = {
    "user",
    "session_limit",
    "daily_budget",
    "idle",
    "admin",
    "hub_shutdown",
    "crash",
    "out_of_memory",
}
KIND = "session"
HEARTBEAT_SECONDS = 10
STOP_ATTEMPTS = 60
STOP_RETRY_SECONDS = 0.5
CLEAN_STOP_KEY = "clean_stop"


@dataclass
class Granted:
    session: LedgerEntry
    environment: dict


@dataclass
class Queued:
    position: int
    message: str


class SessionManager:
    def __init__(
        self,
        platform: Platform,
        quotas: Quotas,
        gpus: GPUPool,
        hub: HubClient,
        grants: Grants | None = None,
    ):
        self.db, self.ledger, self.log = platform.db, platform.ledger, platform.log
        self.now = platform.now
        self.quotas = quotas
        # the runtimes and the budget rules are the quota policy's
        self.policy, self.profiles = quotas.policy, quotas.profiles
        self.gpus = gpus
        self.hub = hub
        # admins' one-off grants add to a profile's daily time on their day
        self.grants = grants or Grants(self.db, self.policy, self.now)
        # the profiles' daily time, which the user's training jobs spend too
        self.profile_time = ProfileTime(
            self.ledger, self.policy, self.profiles, self.now, self.grants
        )
        self._timers: dict[int, asyncio.TimerHandle] = {}
        # when a stop not at the entry's deadline was due (idle): its lag is measured from it
        self._due: dict[int, datetime] = {}
        self._tasks: set[asyncio.Task] = set()
        self._heartbeat: asyncio.Task | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Restore GPUs and timers of open sessions; close those the hub no longer runs."""
        with self.db.session() as db:
            clean_stop = db.get(ServiceState, CLEAN_STOP_KEY)
            stopped_cleanly = clean_stop is not None
            if clean_stop is not None:
                db.delete(clean_stop)
        for session in self.ledger.open_entries(KIND):
            try:
                running = await self.hub.server_running(session.user, session.resource_id)
            except HubError:
                running = True  # the hub cannot tell now: keep it, the next check will
            if running:
                self.gpus.restore(session.user, session.gpus)
                self._schedule(session)
            else:
                reason = "hub_shutdown" if stopped_cleanly else "crash"
                self._close(session.id, reason, at=session.last_seen)
                self.log.info("Closed session %s of %s: %s", session.id, session.user, reason)
        self._heartbeat = asyncio.create_task(self._beat())

    async def shutdown(self) -> None:
        """Record how far open entries ran, and that this stop was clean."""
        if self._heartbeat:
            self._heartbeat.cancel()
        for timer in self._timers.values():
            timer.cancel()
        self.ledger.heartbeat()
        with self.db.session() as db:
            db.merge(ServiceState(key=CLEAN_STOP_KEY, value=self.now().isoformat()))

    async def _beat(self) -> None:
        # for every kind: an entry whose service vanished ends where it was last seen
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self.ledger.heartbeat()

    # -- usage ----------------------------------------------------------------------------
    def usage_for(self, user: str, quota: dict, now: datetime | None = None) -> dict[str, Usage]:
        """Time per runtime profile (sessions and jobs) in the current budget window."""
        return self.profile_time.usage_for(user, quota, now)

    def open_session(self, user: str, server: str = "") -> LedgerEntry | None:
        """The user's running session on a server ("" for the default one)."""
        return self.ledger.open_entry(user, KIND, server)

    def get(self, session_id: int) -> LedgerEntry | None:
        entry = self.ledger.get(session_id)
        return entry if entry is not None and entry.kind == KIND else None

    def history(self, user: str | None) -> list[LedgerEntry]:
        return self.ledger.entries(user, KIND)

    # -- begin and end ----------------------------------------------------------------------
    async def begin(
        self,
        user: str,
        groups: list[str],
        profile_name: str | None,
        wait: float,
        server: str = "",
    ):
        """Check quotas and GPUs, then open a ledger entry. Granted, Queued, or a refusal."""
        profile = self.profiles.get(profile_name)
        if profile is None:
            raise Invalid(
                f"There is no runtime called {profile_name!r}. "
                f"Choose one of: {', '.join(self.profiles.names())}.",
                "unknown_profile",
            )
        stale = self.open_session(user, server)
        if stale is not None:
            # the hub is starting this server again, so its old process is gone
            self._close(stale.id, "crash", at=stale.last_seen)

        quota = self.quotas.quota_for(user, groups)
        self.profile_time.check(user, profile, quota)

        gpus: list[str] = []
        if profile.gpus:
            granted = await self._wait_for_gpus(user, profile, wait)
            if isinstance(granted, Queued):
                return granted
            gpus = granted

        session = self.ledger.open(KIND, user, profile.name, server, gpus=gpus)
        # its deadline, and those of what else runs on the profile, which now runs out sooner
        self.reschedule_user(user, groups)
        session = self.ledger.get(session.id)
        self.log.info(
            "Session %s of %s on %s started; deadline %s (%s)",
            session.id,
            user,
            profile.name,
            session.deadline,
            session.deadline_reason,
        )
        return Granted(session, self._environment(session))

    async def _wait_for_gpus(self, user: str, profile: Profile, wait: float):
        if profile.gpus > len(self.gpus.ids):
            raise Conflict(
                f"This lab has {len(self.gpus.ids)} GPU(s); {profile.display_name} needs "
                f"{profile.gpus}. Choose another runtime.",
                "no_gpus",
            )
        loop = asyncio.get_running_loop()
        give_up = loop.time() + wait
        while True:
            granted = self.gpus.try_assign(user, profile.gpus)
            if granted is not None:
                return granted
            left = give_up - loop.time()
            if left <= 0:
                position = self.gpus.position(user) or 1
                return Queued(
                    position,
                    f"All {len(self.gpus.ids)} GPU(s) are in use. You are number {position} "
                    "in the queue; your session starts as soon as one is free.",
                )
            await self.gpus.wait_for_change(left)

    def leave_queue(self, user: str) -> None:
        self.gpus.leave(user)

    def _environment(self, session: LedgerEntry) -> dict:
        devices = ",".join(session.gpus)
        env = {
            "LABDECK_PROFILE": session.profile,
            "LABDECK_SESSION_ID": str(session.id),
            # An empty list hides every GPU from CUDA: CPU sessions see none.
            "CUDA_VISIBLE_DEVICES": devices,
            "NVIDIA_VISIBLE_DEVICES": devices or "void",
        }
        if session.deadline:
            env["LABDECK_SESSION_DEADLINE"] = session.deadline.isoformat()
        return env

    def end(self, session_id: int, reason: str) -> LedgerEntry | None:
        """The hub reports the session's server gone. A reason recorded earlier wins."""
        return self._close(session_id, reason)

    def _close(
        self, session_id: int, reason: str, at: datetime | None = None
    ) -> LedgerEntry | None:
        timer = self._timers.pop(session_id, None)
        if timer:
            timer.cancel()
        before = self.ledger.get(session_id)
        session = self.ledger.close(session_id, reason, at, due=self._due.pop(session_id, None))
        if before is not None and before.ended is None:
            self.gpus.release(session.gpus)
            self.log.info(
                "Session %s of %s ended: %s", session.id, session.user, session.end_reason
            )
            # the user's jobs on the profile now have its time to themselves
            self._background(self.profile_time_changed(session.user))
        return session

    # -- enforcement ------------------------------------------------------------------------
    def _schedule(self, session: LedgerEntry) -> None:
        old = self._timers.pop(session.id, None)
        if old:
            old.cancel()
        if session.deadline is None:
            return
        loop = asyncio.get_running_loop()
        delay = max((session.deadline - self.now()).total_seconds(), 0)
        self._timers[session.id] = loop.call_at(
            loop.time() + delay, self._spawn_stop, session.id, session.deadline_reason
        )

    def _spawn_stop(self, session_id: int, reason: str) -> None:
        self._background(self.stop(session_id, reason))

    def _background(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(
        self, session_id: int, reason: str, due: datetime | None = None
    ) -> LedgerEntry | None:
        """Record why, then have the hub stop the server; close the entry once it is gone.
        `due`: when this stop was due, if not at the entry's deadline (an idle timeout).

        The hub may be busy with the server (still starting, already stopping): ask again
        until it is gone, rather than let a session overrun its deadline.
        """
        session = self.ledger.set_stop_reason(session_id, reason)
        if session is None or session.ended is not None:
            return session
        if due is not None and session.stop_reason == reason:
            self._due[session_id] = due
        user, server = session.user, session.resource_id
        self.log.info("Stopping session %s of %s: %s", session_id, user, reason)
        for _ in range(STOP_ATTEMPTS):
            try:
                await self.hub.stop_server(user, server)
                if not await self.hub.server_running(user, server):
                    return self._close(session_id, reason)
            except HubError as e:
                self.log.warning("Hub did not stop %s's server yet: %s", user, e)
            session = self.ledger.get(session_id)
            if session.ended is not None:
                return session  # the spawner reported it gone meanwhile
            await asyncio.sleep(STOP_RETRY_SECONDS)
        self.log.error("Gave up stopping %s's server for session %s", user, session_id)
        return None

    def reschedule_user(self, user: str, groups: list[str]) -> None:
        """Move the deadlines of the user's running sessions and jobs: after a quota
        change, or when one of them started or ended."""
        quota = self.quotas.quota_for(user, groups)
        for entry in self.profile_time.deadlines(user, quota):
            if entry.kind == KIND:
                self._schedule(entry)

    async def profile_time_changed(self, user: str) -> None:
        """One of the user's sessions or jobs started or ended: the others' deadlines
        move (with the user's groups asked of the hub)."""
        if not self.ledger.open_entries(KIND, user) and not self.ledger.open_entries("job", user):
            return
        try:
            self.reschedule_user(user, await self.hub.groups_of(user))
        except Exception:
            # the hub may be away: the next start, end or quota change moves them
            self.log.exception("Moving the deadlines of %s failed", user)
