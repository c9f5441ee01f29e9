"""The lifecycle every kind of user resource shares (Spark clusters, training jobs,
model deployments): a backend contract, and a manager base that owns the rest.

States: STARTING -> RUNNING -> TERMINATING -> TERMINATED, or FAILED with a reason.

The manager owns the database row (state, progress, reason), the ledger entry (open
while RUNNING), idle deadlines, the daily budget of core time (a timer stops a user's
resources of the kind when their running cores have spent it), the watch loop that
notices lost processes, re-adoption after a service restart and shutdown. A backend
only runs processes: like JupyterHub's Spawner it is made per resource, starts, polls
and stops, and saves what it needs to find its processes again in `get_state` /
`load_state`.
"""

import asyncio
import contextlib
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from traitlets import Float
from traitlets.config import Configurable, LoggingConfigurable

from ..hub.system_users import SystemUserError
from ..quota.sections import QuotaSection
from ..quota.usage import human_duration
from ..supervisor import Account, Supervisor
from .budgets import CoreTimeBudget, QuotaAccess
from .errors import NotFound, Refused
from .models import (  # the states are re-exported: they are the lifecycle's
    FAILED,
    LIVE_STATES,
    RUNNING,
    STARTING,
    STATES,
    TERMINATED,
    TERMINATING,
    Resource,
)
from .platform import Platform

# progress(step, done, total[, reason]): what a start is doing, for people following it;
# a reason, when given, becomes its state_reason (what it waits for, None once it no
# longer waits: "Waiting in Slurm's queue: Resources").
Progress = Callable[..., None]
UNCHANGED = object()


class StartFailed(Exception):
    """A resource could not start; the message says why, for its owner."""


class ResourceBackend(LoggingConfigurable):
    """Runs the processes of one resource. Subclass it and override start, poll, stop,
    get_state and load_state; a manager makes one per resource (as the hub a Spawner
    per server) and chooses the class from its configuration.
    """

    def __init__(
        self,
        resource: Resource,
        supervisor: Supervisor,
        work_dir: Path,
        public_path: str,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.resource_id = resource.id
        self.user = resource.user
        self.spec = dict(resource.spec)
        self.supervisor = supervisor
        # where its files go, and the URL path under which labdeck serves its web pages
        self.work_dir = work_dir
        self.public_path = public_path
        # the owner's OS account its processes run as (None: the service's own)
        self.account: Account | None = None

    def make_private_dir(self, path: Path) -> Path:
        """A folder only the owner's account (and the service) can enter."""
        path.mkdir(parents=True, exist_ok=True)
        if self.account is not None:
            os.chown(path, self.account.uid, self.account.gid)
        path.chmod(0o700)
        return path

    def make_passable_dir(self, path: Path) -> Path:
        """A folder of the service's that the owner's account may pass through only (to
        its own folders inside), and list nothing of."""
        path.mkdir(exist_ok=True)
        if self.account is not None:
            os.chown(path, -1, self.account.gid)
        path.chmod(0o710 if self.account is not None else 0o700)
        return path

    def get_state(self) -> dict:
        """What to save to find this resource's processes again (JSON)."""
        return {}

    def load_state(self, state: dict) -> None:
        """Take back what get_state saved (after a service restart)."""

    async def start(self, progress: Progress) -> None:
        """Start everything; report steps with progress. Each report saves get_state:
        report after each process starts, so a restart finds it. A start that waits
        (in a scheduler's queue) says why with progress(..., reason=...). Raise
        StartFailed with a reason for people."""
        raise NotImplementedError

    async def poll(self) -> str | None:
        """None while everything runs; else why it stopped, in a sentence."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop every process; return once none is left."""
        raise NotImplementedError

    async def busy(self) -> bool:
        """Whether work runs that should keep the resource from idling out."""
        return False

    async def status(self) -> dict:
        """Live detail for its owner (JSON), while it runs."""
        return {}


class ResourceSettings(Configurable):
    """Settings every kind of resource has."""

    check_interval_seconds = Float(
        5.0, help="How often running resources are checked for idleness and lost processes."
    ).tag(config=True)


class ResourceManager:
    """Resources of one kind, of every user. Subclasses name the kind and add its rules."""

    kind = ""  # the ledger's kind, and Resource.kind: "cluster"
    id_prefix = ""  # "c-"
    noun = "resource"  # for messages: "cluster"
    budget_title = ""  # whose core time, for messages: "Spark" (default: the noun)
    budget_unit = "core time"  # what ledger_cores count, over time: "replica time"
    # the section limiting live resources of this kind; its `budget` field, if it has one,
    # is the daily core time the kind's running resources (ledger_cores each) may use
    quota: QuotaSection | None = None

    def __init__(
        self,
        platform: Platform,
        settings: ResourceSettings,
        backend_class: type[ResourceBackend],
        work_root: Path,
        public_root: str,
        quotas: QuotaAccess | None = None,
    ):
        self.db, self.ledger, self.log = platform.db, platform.ledger, platform.log
        self.supervisor, self.accounts, self.now = (
            platform.supervisor,
            platform.accounts,
            platform.now,
        )
        self.settings = settings
        self.backend_class = backend_class
        # each resource's files go in work_root/<id>; its web pages are served below
        # public_root/<id>
        self.work_root = work_root
        self.public_root = public_root.rstrip("/")
        self._backends: dict[str, ResourceBackend] = {}
        self._starting: dict[str, asyncio.Task] = {}
        self._watcher: asyncio.Task | None = None
        self.budget = CoreTimeBudget(self, quotas)

    # -- what a kind says about itself (override) -------------------------------------------
    def ledger_profile(self, resource: Resource) -> str:
        """The profile its ledger entry counts against."""
        return self.kind

    def ledger_cores(self, resource: Resource) -> int | None:
        return None

    def ledger_gpus(self, resource: Resource) -> list[str]:
        """GPU devices it holds while it runs."""
        return []

    def amounts(self, spec: dict) -> dict:
        """What one resource with this spec counts against the quota section's fields."""
        return {}

    def start_steps(self, resource: Resource) -> int:
        return 1

    def idle_seconds(self, resource: Resource) -> int | None:
        """Idle time after which it is terminated; None never."""
        return None

    async def before_start(self, resource: Resource, progress: Progress) -> None:
        """Hook run before the backend starts it: wait for what it needs (a GPU). Raise
        StartFailed to fail it; a terminate meanwhile cancels the wait."""

    async def before_stop(self, resource: Resource, reason: str) -> None:
        """Hook run before the backend stops it (e.g. end the sessions on a cluster)."""

    def after_end(self, resource: Resource) -> None:
        """Hook run once it has ended, however it ended (give back what it held)."""

    def running_changed(self, user: str) -> None:
        """One of the user's resources started or stopped running (its ledger entry was
        opened or closed): the daily budgets' deadlines move, in the background."""
        self.budget.changed(user)  # more cores run: it runs out sooner; fewer: later

    async def running_started(self, user: str) -> None:
        """One of the user's resources is about to show RUNNING (its ledger entry is
        open): move the deadlines now, so that it shows them from the start."""
        await self.budget.update(user)

    def resumable(self, resource: Resource) -> bool:
        """Whether a resource found STARTING after a restart may simply start again
        (nothing of it was launched yet: it was waiting), rather than fail."""
        return False

    async def busy(self, resource: Resource) -> bool:
        return await self.backend(resource).busy()

    def outcome(self, resource: Resource, reason: str) -> tuple[str, str] | None:
        """How a resource whose processes ended by themselves is recorded: (state,
        reason), or None for lost (FAILED). A kind whose work ends (a job) says here
        whether it completed."""
        return None

    # -- queries ----------------------------------------------------------------------------
    def get(self, resource_id: str) -> Resource | None:
        with self.db.session() as db:
            row = db.get(Resource, resource_id)
        return row if row is not None and row.kind == self.kind else None

    def get_or_raise(self, resource_id: str, may_see: Callable[[str], bool]) -> Resource:
        """The resource if the caller may see it; someone else's looks like a missing one."""
        resource = self.get(resource_id)
        if resource is None or not may_see(resource.user):
            raise NotFound(f"There is no {self.noun} {resource_id}.")
        return resource

    def owned_by(self, user: str | None, states: tuple[str, ...] = STATES) -> list[Resource]:
        """Resources of user in these states, newest first (everyone's for None)."""
        query = select(Resource).where(Resource.kind == self.kind, Resource.state.in_(states))
        if user is not None:
            query = query.where(Resource.user == user)
        with self.db.session() as db:
            return list(db.scalars(query.order_by(Resource.created.desc())))

    def live(self, user: str | None = None) -> list[Resource]:
        return self.owned_by(user, LIVE_STATES)

    def in_use(self, user: str) -> dict:
        """Totals over the user's live resources, in the quota section's fields (and the
        core time used in the current budget window, in its budget field)."""
        used = dict.fromkeys(self.quota.fields if self.quota else (), 0)
        for resource in self.live(user):
            for key, amount in self.amounts(resource.spec).items():
                used[key] = used.get(key, 0) + amount
        if self.budget.enabled:
            used[self.quota.budget] = self.budget.usage(user, None).used
        return used

    def check_limits(self, user: str, spec: dict, limits: dict) -> None:
        """Refused, saying which limit and by how much, when spec does not fit (or the
        day's core time is used up)."""
        if self.quota is None:
            return
        self.budget.check(user, limits)
        over = self.quota.refusal(limits, self.in_use(user), self.amounts(spec))
        if over is None:
            return
        field, asked, used, limit = over
        show = self.quota.show(field)
        noun = self.quota.fields[field]
        raise Refused(
            f"Not started: this {self.noun} needs {show(asked)} {noun} and you have "
            f"{show(used)} of your {show(limit)} in use. Terminate a {self.noun} or ask "
            "for less.",
            f"{self.quota.name}_limit",
        )

    def backend(self, resource: Resource) -> ResourceBackend:
        """The backend of a resource (made, and its saved state loaded, on first use)."""
        backend = self._backends.get(resource.id)
        if backend is None:
            backend = self.backend_class(
                resource,
                self.supervisor,
                self.work_root / resource.id,
                f"{self.public_root}/{resource.id}",
                parent=self.settings,
                log=self.log,
            )
            backend.load_state(dict(resource.backend_state or {}))
            self._backends[resource.id] = backend
        return backend

    def _save(self, resource_id: str, **values) -> Resource:
        with self.db.session() as db:
            row = db.get(Resource, resource_id)
            for key, value in values.items():
                setattr(row, key, value)
            return row

    # -- create -----------------------------------------------------------------------------
    def create(self, user: str, name: str, spec: dict) -> Resource:
        """Record it as STARTING and start it in the background."""
        resource = Resource(
            id=self.id_prefix + secrets.token_hex(4),
            kind=self.kind,
            user=user,
            name=name,
            spec=spec,
            state=STARTING,
            backend_state={},
        )
        resource.progress = {"step": "Queued", "done": 0, "total": self.start_steps(resource)}
        with self.db.session() as db:
            db.add(resource)
        self._launch(resource)
        return resource

    def _launch(self, resource: Resource) -> None:
        task = asyncio.create_task(self._start(resource))
        self._starting[resource.id] = task
        task.add_done_callback(lambda _: self._starting.pop(resource.id, None))

    async def _start(self, resource: Resource) -> None:
        backend = self.backend(resource)

        def progress(step: str, done: int, total: int, reason=UNCHANGED) -> None:
            self._save(
                resource.id,
                progress={"step": step, "done": done, "total": total},
                backend_state=backend.get_state(),
                **({} if reason is UNCHANGED else {"state_reason": reason}),
            )

        try:
            await self.before_start(resource, progress)
            backend.account = await self.accounts.account(resource.user)
            await backend.start(progress)
        except SystemUserError as e:
            self.log.error("No account for %s: %s", resource.user, e)
            self._finish(resource.id, FAILED, "Your account could not be prepared. Tell an admin.")
            return
        except asyncio.CancelledError:
            # terminated while starting: stop what did start, then let terminate() record it
            await backend.stop()
            raise
        except (StartFailed, OSError) as e:
            self.log.warning("%s %s failed to start: %s", self.noun, resource.id, e)
            await backend.stop()
            self._finish(resource.id, FAILED, str(e))
            return
        except Exception:
            self.log.exception("Starting %s %s", self.noun, resource.id)
            await backend.stop()
            self._finish(resource.id, FAILED, "labdeck failed to start it; admins can see why.")
            return
        now = self.now()
        row = self._save(resource.id, backend_state=backend.get_state())
        if row.state != STARTING:
            return  # terminate() was asked meanwhile and takes it from here
        entry = self.ledger.open(
            self.kind,
            row.user,
            self.ledger_profile(row),
            row.id,
            cores=self.ledger_cores(row),
            gpus=self.ledger_gpus(row),
            at=now,
        )
        self._save(resource.id, ledger_id=entry.id)
        # its deadlines are known by the time anyone sees it run (a terminate meanwhile
        # cancels this, and closes the entry)
        await self.running_started(row.user)
        with self.db.session() as db:
            row = db.get(Resource, resource.id)
            if row.state != STARTING:
                return
            total = self.start_steps(row)
            row.state, row.started, row.last_activity = RUNNING, now, now
            row.progress = {"step": "Running", "done": total, "total": total}
        self.log.info("%s %s is running", self.noun, resource.id)

    # -- terminate --------------------------------------------------------------------------
    async def terminate(
        self,
        resource_id: str,
        reason: str,
        state: str = TERMINATED,
        ledger_reason: str | None = None,
    ) -> None:
        """Stop everything it runs; record why (for people, and ledger_reason in its
        ledger entry); close its ledger entry."""
        with self.db.session() as db:
            row = db.get(Resource, resource_id)
            if row is None or row.state in (TERMINATED, FAILED):
                return
            row.state, row.state_reason = TERMINATING, reason
        if ledger_reason is not None and row.ledger_id is not None:
            self.ledger.set_stop_reason(row.ledger_id, ledger_reason)
        try:
            await self.before_stop(row, reason)
        except Exception:
            # what runs on it dies with it anyway; never keep the processes
            self.log.exception("Before stopping %s %s", self.noun, resource_id)
        starting = self._starting.get(resource_id)
        if starting is not None:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
        await self.backend(self.get(resource_id)).stop()
        self._finish(resource_id, state, reason)

    def _finish(self, resource_id: str, state: str, reason: str, lost: bool = False) -> None:
        """Record the end; a resource lost while the service was away ended when it was
        last seen running."""
        now = self.now()
        row = self._save(resource_id, state=state, state_reason=reason, ended=now)
        if row.ledger_id is not None:
            entry = self.ledger.get(row.ledger_id)
            self.ledger.close(row.ledger_id, state.lower(), at=entry.last_seen if lost else now)
        self._backends.pop(resource_id, None)
        self.log.info("%s %s %s: %s", self.noun, resource_id, state, reason)
        try:
            self.after_end(row)
        except Exception:
            self.log.exception("After %s %s ended", self.noun, resource_id)
        if row.ledger_id is not None:
            self.running_changed(row.user)

    # -- activity and watching ----------------------------------------------------------------
    def touch(self, resource_id: str) -> None:
        """Activity: push idle termination back."""
        with self.db.session() as db:
            row = db.get(Resource, resource_id)
            if row is not None:
                row.last_activity = self.now()

    def idle_deadline(self, resource: Resource) -> datetime | None:
        seconds = self.idle_seconds(resource)
        if resource.state != RUNNING or seconds is None:
            return None
        return resource.last_activity + timedelta(seconds=seconds)

    async def check(self) -> None:
        """Resources whose processes are gone fail; idle ones are terminated."""
        for resource in self.owned_by(None, (RUNNING,)):
            try:
                await self._check_one(resource)
            except Exception:
                # one resource that cannot be checked never keeps the others from it
                self.log.exception("Checking %s %s failed", self.noun, resource.id)

    async def _check_one(self, resource: Resource) -> None:
        lost = await self.backend(resource).poll()
        if lost is not None:
            state, reason = self.outcome(resource, lost) or (FAILED, lost)
            await self.terminate(resource.id, reason, state=state)
            return
        if await self.busy(resource):
            self.touch(resource.id)
            return
        deadline = self.idle_deadline(resource)
        if deadline and self.now() >= deadline:
            idle = human_duration(self.idle_seconds(resource))
            await self.terminate(resource.id, f"Idle for {idle}: terminated automatically.")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.settings.check_interval_seconds)
            try:
                await self.check()
            except Exception:
                self.log.exception("Checking %ss failed", self.noun)

    # -- service lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Re-adopt what survived a restart (its ledger entry stays open); stop the rest.
        Budget deadlines are computed again from the ledger."""
        for resource in self.live():
            if resource.state == STARTING and self.resumable(resource):
                self.log.info("Starting %s %s again", self.noun, resource.id)
                self._launch(resource)
                continue
            backend = self.backend(resource)
            ended = None
            if resource.state == RUNNING:
                ended = await backend.poll()
                if ended is None:
                    self.log.info("Re-adopted running %s %s", self.noun, resource.id)
                    continue
            await backend.stop()
            # a job that ended by itself meanwhile is recorded as it ended
            state, reason = (ended is not None and self.outcome(resource, ended)) or (
                FAILED,
                "Lost while labdeck restarted; its processes were stopped. Start it again.",
            )
            self._finish(resource.id, state, reason, lost=True)
        for user in {r.user for r in self.owned_by(None, (RUNNING,))}:
            self.budget.changed(user)
        self._watcher = asyncio.create_task(self._watch())

    async def shutdown(self) -> None:
        """labdeck is stopping: leave no process behind, and say so on each resource."""
        if self._watcher:
            self._watcher.cancel()
        self.budget.close()
        await asyncio.gather(*(self.terminate(r.id, "labdeck was stopped.") for r in self.live()))
