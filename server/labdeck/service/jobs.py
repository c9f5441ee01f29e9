"""Training jobs of users: a script or command run in the background as its owner's
account, on the shared resource lifecycle.

What is a job's own here: its request (jobs/spec.py), the `jobs` quota section (how
many at once), that its end is its process's exit (COMPLETED on code 0, FAILED with the
code, signal or out of memory), its maximum run time, and the states its API shows.
"""

import shutil
from datetime import timedelta
from pathlib import Path

from jupyterhub.traitlets import EntryPointType
from traitlets import Int, default

from ..capabilities import JOBS
from ..jobs.files import read_bytes, remove_tree
from ..jobs.local import LocalJobBackend, job_parts
from ..jobs.spec import JobSpecError, job_spec
from ..quota.profiles import RuntimeProfiles
from .errors import Conflict, Invalid
from .models import FAILED, RUNNING, STARTING, TERMINATED, TERMINATING, Resource
from .resources import ResourceBackend, ResourceManager, ResourceSettings

COMPLETED_REASON = "Completed."
# the lifecycle's states as a job's API names them (TERMINATED is COMPLETED or STOPPED)
API_STATES = {STARTING: "PENDING", RUNNING: "RUNNING", TERMINATING: "STOPPING", FAILED: "FAILED"}
ENDED = (TERMINATED, FAILED)
MAX_READ = 2**20


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

    def __init__(self, *args, profiles: RuntimeProfiles, **kwargs):
        super().__init__(*args, **kwargs)
        self.profiles = profiles

    # -- the kind's rules -----------------------------------------------------------------
    def ledger_profile(self, resource: Resource) -> str:
        return resource.spec["profile"]

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

    async def check(self) -> None:
        """Also stop jobs that have run for their maximum run time."""
        await super().check()
        for resource in self.owned_by(None, (RUNNING,)):
            if self.now() >= self.runtime_deadline(resource):
                limit = resource.spec["max_runtime_seconds"]
                await self.terminate(
                    resource.id, f"Max runtime exceeded ({limit} s): stopped.", state=FAILED
                )

    @staticmethod
    def api_state(resource: Resource) -> str:
        if resource.state == TERMINATED:
            return "COMPLETED" if resource.state_reason == COMPLETED_REASON else "STOPPED"
        return API_STATES[resource.state]

    # -- what users ask -------------------------------------------------------------------
    async def create_job(self, user: str, body: dict, limits: dict) -> Resource:
        account = await self.accounts.account(user)
        home = Path(account.home) if account else Path(self.accounts.homes) / user
        try:
            spec = job_spec(
                body,
                home,
                self.profiles,
                self.settings.default_runtime_seconds,
                self.settings.max_runtime_seconds,
            )
        except JobSpecError as e:
            raise Invalid(str(e), "invalid_job") from e
        self.check_limits(user, spec, limits)
        return self.create(user, spec["name"], spec)

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
        """(bytes of a file of the job's folder from offset, its size); empty while the
        file is not there yet."""
        home = Path(resource.spec["home"])
        found = read_bytes(home, job_parts(resource.id, name), offset, MAX_READ)
        return found if found is not None else (b"", 0)
