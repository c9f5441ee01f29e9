"""Training jobs of users: a script or command run in the background as its owner's
account, on the shared resource lifecycle.

What is a job's own here: its request (jobs/spec.py), the `jobs` quota section (how
many at once), that its end is its process's exit (COMPLETED on code 0, FAILED with the
code, signal or out of memory), its maximum run time, and the states its API shows.
A job's run time spends its profile's daily time as a lab session does (profile_time.py),
and a GPU job waits PENDING in the sessions' first-come GPU queue for devices of its own.
"""

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from jupyterhub.traitlets import EntryPointType
from traitlets import Int, default

from ..capabilities import JOBS
from ..jobs.files import read_bytes, remove_tree
from ..jobs.local import LocalJobBackend, job_parts
from ..jobs.spec import job_spec
from ..quota.profiles import RuntimeProfiles
from ..specs import SpecError
from .errors import Conflict, Invalid
from .gpus import GPUPool
from .models import FAILED, RUNNING, STARTING, TERMINATED, TERMINATING, Resource
from .profile_time import BUDGET_REASON, ProfileTime
from .resources import Progress, ResourceBackend, ResourceManager, ResourceSettings

COMPLETED_REASON = "Completed."
# the lifecycle's states as a job's API names them (TERMINATED is COMPLETED or STOPPED)
API_STATES = {STARTING: "PENDING", RUNNING: "RUNNING", TERMINATING: "STOPPING", FAILED: "FAILED"}
ENDED = (TERMINATED, FAILED)
MAX_READ = 2**20
# a job waiting for a GPU says it is still waiting this often (the queue drops the silent)
GPU_WAIT_SECONDS = 10.0


class TrainingJobs(ResourceSettings):
    """Settings of training jobs."""

    default_runtime_seconds = Int(
        24 * 3600, help="Longest a job runs when its request names no `max_runtime_seconds`."
    ).tag(config=True)

    max_runtime_seconds = Int(
        7 * 24 * 3600, help="Largest `max_runtime_seconds` a job may ask for."
    ).tag(config=True)

    backend_class = EntryPointType(
        default_value=LocalJobBackend,
        klass=ResourceBackend,
        entry_point_group="labdeck.job_backends",
        help="""What runs jobs: `local` (a process tree as the owner's account), another
        registered backend's name, or an import string.""",
    ).tag(config=True)

    @default("check_interval_seconds")
    def _check_often(self):
        return 1.0  # a job's end shows within a second (a check is a /proc read per job)


class JobManager(ResourceManager):
    """Jobs of all users; how many run at once comes from each user's `jobs` quota."""

    kind = JOBS.ledger_kind
    id_prefix = "j-"
    noun = "job"
    quota = JOBS.quota

    def __init__(
        self,
        *args,
        profiles: RuntimeProfiles,
        gpus: GPUPool,
        profile_time: ProfileTime,
        profile_time_changed: Callable[[str], Awaitable[None]],
        quota_of: Callable[[str], Awaitable[dict]],
        **kwargs,
    ):
        """profile_time_changed(user) moves the deadlines of the user's sessions and
        jobs; quota_of(user) is their effective quota."""
        super().__init__(*args, **kwargs)
        self.profiles = profiles
        self.gpus = gpus
        self.profile_time = profile_time
        self.profile_time_changed = profile_time_changed
        self.quota_of = quota_of
        self._tasks: set[asyncio.Task] = set()
        # called with each job that ended (what runs jobs for another feature cleans up)
        self.end_listeners: list[Callable[[Resource], None]] = []

    # -- the kind's rules -----------------------------------------------------------------
    def ledger_profile(self, resource: Resource) -> str:
        return resource.spec["profile"]

    def ledger_gpus(self, resource: Resource) -> list[str]:
        return list(resource.spec.get("gpus") or [])

    async def running_started(self, user: str) -> None:
        await super().running_started(user)
        await self.profile_time_changed(user)

    def running_changed(self, user: str) -> None:
        super().running_changed(user)
        task = asyncio.create_task(self.profile_time_changed(user))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def gpu_holder(resource: Resource) -> str:
        """Who holds a job's GPUs in the pool (a user's session holds them as the user)."""
        return f"{resource.user}/{resource.id}"

    async def before_start(self, resource: Resource, progress: Progress) -> None:
        """A GPU job waits PENDING, in line with sessions, until its devices are free."""
        profile = self.profiles.get(resource.spec["profile"])
        if profile is None or not profile.gpus:
            return
        holder = self.gpu_holder(resource)
        try:
            while (granted := self.gpus.try_assign(holder, profile.gpus)) is None:
                place = self.gpus.position(holder) or 1
                waiting = (
                    f"Waiting for a GPU: number {place} in the queue of "
                    f"{len(self.gpus.ids)} GPU(s)."
                )
                if self.get(resource.id).state_reason != waiting:
                    self._save(resource.id, state_reason=waiting)
                    progress("Waiting for a GPU", 0, 1)
                await self.gpus.wait_for_change(GPU_WAIT_SECONDS)
        except BaseException:
            self.gpus.leave(holder)  # stopped while waiting: out of the line
            raise
        spec = {**resource.spec, "gpus": granted}
        self._save(resource.id, spec=spec, state_reason=None)
        self.backend(resource).spec = spec

    def after_end(self, resource: Resource) -> None:
        holder = self.gpu_holder(resource)
        self.gpus.release(
            [g for g in self.ledger_gpus(resource) if self.gpus.owner.get(g) == holder]
        )
        for listener in self.end_listeners:
            listener(resource)

    def resumable(self, resource: Resource) -> bool:
        # still in the GPU queue when the service stopped: it takes its place again
        return not resource.spec.get("gpus") and not (resource.backend_state or {}).get("process")

    def amounts(self, spec: dict) -> dict:
        return {"concurrent": 1}

    def outcome(self, resource: Resource, reason: str) -> tuple[str, str]:
        """A job that exited ended: COMPLETED on code 0, else FAILED saying why."""
        code, why = self.backend(resource).ended()
        return (TERMINATED, COMPLETED_REASON) if code == 0 else (FAILED, why)

    def runtime_deadline(self, resource: Resource):
        if resource.started is None:
            return None
        return resource.started + timedelta(seconds=resource.spec["max_runtime_seconds"])

    def budget_deadline(self, resource: Resource):
        """When its profile's daily time runs out, if that stops it."""
        if resource.state != RUNNING or resource.ledger_id is None:
            return None
        entry = self.ledger.get(resource.ledger_id)
        return entry.deadline if entry is not None else None

    async def check(self) -> None:
        """Also stop jobs that have run for their maximum run time, or whose profile's
        daily time is spent."""
        await super().check()
        for resource in self.owned_by(None, (RUNNING,)):
            now = self.now()
            if now >= self.runtime_deadline(resource):
                limit = resource.spec["max_runtime_seconds"]
                await self.terminate(
                    resource.id, f"Max runtime exceeded ({limit} s): stopped.", state=FAILED
                )
                continue
            deadline = self.budget_deadline(resource)
            if deadline is not None and now >= deadline:
                await self._stop_over_budget(resource)

    async def _stop_over_budget(self, resource: Resource) -> None:
        try:
            quota = await self.quota_of(resource.user)
        except Exception:
            self.log.exception("Reading %s's quota failed; checking again", resource.user)
            return
        reason = self.profile_time.stop_message(resource.user, resource.spec["profile"], quota)
        await self.terminate(resource.id, reason, state=FAILED, ledger_reason=BUDGET_REASON)

    async def start(self) -> None:
        """Take back the GPUs of the jobs that hold some, then re-adopt as every kind."""
        for resource in self.live():
            self.gpus.restore(self.gpu_holder(resource), self.ledger_gpus(resource))
        await super().start()

    @staticmethod
    def api_state(resource: Resource) -> str:
        if resource.state == TERMINATED:
            return "COMPLETED" if resource.state_reason == COMPLETED_REASON else "STOPPED"
        return API_STATES[resource.state]

    # -- what users ask -------------------------------------------------------------------
    async def home_of(self, user: str) -> Path:
        """The user's home folder, where their jobs' files are."""
        account = await self.accounts.account(user)
        return Path(account.home) if account else Path(self.accounts.homes) / user

    async def create_job(
        self, user: str, body: dict, quota: dict, marker: dict | None = None
    ) -> Resource:
        """Start a job if its request is valid and the user's quota allows it: the jobs
        section, the profile's daily time, and devices enough for a GPU profile.

        marker: what labdeck itself stores with a job it runs for another feature (a
        Livy batch: {"type": "spark-batch", ...}); no request body can set it."""
        home = await self.home_of(user)
        try:
            spec = job_spec(
                body,
                home,
                self.profiles,
                self.settings.default_runtime_seconds,
                self.settings.max_runtime_seconds,
            )
        except SpecError as e:
            raise Invalid(str(e), "invalid_job") from e
        profile = self.profiles.get(spec["profile"])
        if profile.gpus > len(self.gpus.ids):
            raise Conflict(
                f"This lab has {len(self.gpus.ids)} GPU(s); {profile.display_name} needs "
                f"{profile.gpus}. Choose another profile.",
                "no_gpus",
            )
        self.check_limits(user, spec, dict(quota.get(self.quota.name) or {}))
        self.profile_time.check(user, profile, quota)
        return self.create(user, spec["name"], {**spec, **(marker or {})})

    async def stop(self, resource: Resource, who: str) -> None:
        if resource.state in ENDED:
            raise Conflict(f"Job {resource.id} has already ended.", "job_ended")
        await self.terminate(resource.id, f"Stopped by {who}.")

    def forget(self, resource: Resource, files: bool) -> None:
        """Remove an ended job's record (and with files, its folder in the home)."""
        if resource.state not in ENDED:
            raise Conflict(
                f"Job {resource.id} is {self.api_state(resource)}: stop it first.", "job_running"
            )
        if files:
            remove_tree(Path(resource.spec["home"]), job_parts(resource.id))
        shutil.rmtree(self.work_root / resource.id, ignore_errors=True)  # the service's own
        with self.db.session() as db:
            row = db.get(Resource, resource.id)
            if row is not None:
                db.delete(row)

    def read(self, resource: Resource, name: str, offset: int) -> tuple[bytes, int]:
        """(bytes of a file of the job's folder from offset, its size; a negative offset
        counts from its end); empty while the file is not there yet."""
        home = Path(resource.spec["home"])
        found = read_bytes(home, job_parts(resource.id, name), offset, MAX_READ)
        return found if found is not None else (b"", 0)
