"""Model deployments of users: endpoints served by replicas of a model server, on the
shared resource lifecycle.

What is a deployment's own here: its request (deployments/spec.py) and its name, unique
among its owner's deployments (it is part of the endpoint's URL); the `deployments`
quota section (how many, and the replica time they may run a day: the ledger counts a
deployment's running replicas as its cores); who may call it (private, any hub user, or
a key); the states its API shows; and its updates, which start new replicas before the
old ones stop.
"""

import asyncio
import hashlib
import hmac
import secrets
import time
from pathlib import Path

from jupyterhub.traitlets import EntryPointType
from sqlalchemy import select
from traitlets import Float, Int, default

from ..capabilities import DEPLOYMENTS
from ..deployments.local import LocalDeploymentBackend
from ..deployments.spec import deployment_spec, update_spec
from ..specs import SpecError
from .endpoints import EndpointGateway
from .errors import Conflict, Invalid, NotFound
from .models import FAILED, RUNNING, STARTING, TERMINATED, TERMINATING, Resource
from .recommender import Recommender
from .resources import ResourceBackend, ResourceManager, ResourceSettings, StartFailed

# the lifecycle's states as a deployment's API names them (SageMaker's endpoint states)
API_STATES = {
    STARTING: "CREATING",
    RUNNING: "IN_SERVICE",
    TERMINATING: "DELETING",
    TERMINATED: "STOPPED",  # by its owner's daily replica time; delete it, or deploy again
    FAILED: "FAILED",
}
KEY_BYTES = 32
# an endpoint's record is looked up per call: kept this long (and dropped on any change)
NAME_CACHE_SECONDS = 1.0
NAME_CACHE_SIZE = 10_000


def key_digest(key: str) -> str:
    """What is stored of an access key: its SHA-256 (a key is long and random)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ModelDeployments(ResourceSettings):
    """Settings of model deployments."""

    max_replicas = Int(4, help="Most replicas one deployment may ask for.").tag(config=True)

    max_request_bytes = Int(
        6 * 2**20,
        help="Largest request body an endpoint accepts; larger ones get 413 (SageMaker: 6 MB).",
    ).tag(config=True)

    cold_start_timeout_seconds = Float(
        120.0,
        help="Longest a request to a serverless endpoint at zero waits for its first replica.",
    ).tag(config=True)

    backend_class = EntryPointType(
        default_value=LocalDeploymentBackend,
        klass=ResourceBackend,
        entry_point_group="labdeck.deployment_backends",
        help="""What runs deployments' replicas: `local` (model servers as local processes
        of the owner's account), another registered backend's name, or an import string.""",
    ).tag(config=True)

    @default("check_interval_seconds")
    def _check_often(self):
        return 1.0  # a replica that died, or a serverless endpoint idle long enough


class DeploymentManager(ResourceManager):
    """Deployments of all users, by owner and name."""

    kind = DEPLOYMENTS.ledger_kind
    id_prefix = "d-"
    noun = "deployment"
    budget_title = "Endpoint"
    budget_unit = "replica time"
    quota = DEPLOYMENTS.quota

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # one change of replicas at a time (updates, cold starts, scales to zero)
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task] = set()
        # the traffic of every endpoint
        self.gateway = EndpointGateway(self, self.settings.cold_start_timeout_seconds)
        self.recommender = Recommender(self)
        self._named: dict[tuple[str, str], tuple[float, Resource]] = {}
        self._updating: set[str] = set()  # ids of deployments an update is changing

    # -- the kind's rules -----------------------------------------------------------------
    def ledger_profile(self, resource: Resource) -> str:
        return DEPLOYMENTS.quota.name

    def ledger_cores(self, resource: Resource) -> int:
        """Replicas running: what its replica time counts."""
        return len(self.backend(resource).replicas)

    def amounts(self, spec: dict) -> dict:
        return {"concurrent": 1}

    def replicas_running(self, resource: Resource) -> int:
        """Replicas in the rotation now (0 unless it is in service)."""
        return self.ledger_cores(resource) if resource.state == RUNNING else 0

    def api_state(self, resource: Resource) -> str:
        if resource.state == RUNNING and resource.id in self._updating:
            return "UPDATING"
        return API_STATES[resource.state]

    def resumable(self, resource: Resource) -> bool:
        # stopped with labdeck (see shutdown), or still waiting to start: start it again
        return not (resource.backend_state or {}).get("replicas")

    async def start(self) -> None:
        await super().start()
        await self.recommender.recover()

    async def shutdown(self) -> None:
        """labdeck is stopping: stop every replica, and keep each deployment to start
        again, on the same settings and key, when labdeck starts."""
        if self._watcher:
            self._watcher.cancel()
        self.budget.close()
        await self.recommender.close()
        self.gateway.save()
        deleting = self.owned_by(None, (TERMINATING,))
        await asyncio.gather(*(self.terminate(r.id, "Deleted.") for r in deleting))
        for resource in self.owned_by(None, (STARTING, RUNNING)):
            starting = self._starting.get(resource.id)
            if starting is not None:
                starting.cancel()
            await self.backend(resource).stop()
            if resource.ledger_id is not None:
                self.ledger.close(resource.ledger_id, "hub_shutdown", at=self.now())
            self._save(
                resource.id,
                state=STARTING,
                ledger_id=None,
                backend_state={},
                progress={"step": "Waiting for labdeck to start again", "done": 0, "total": 1},
            )
            self._backends.pop(resource.id, None)

    async def check(self) -> None:
        """Also scale serverless endpoints idle long enough to zero."""
        await super().check()
        await self.gateway.sweep()

    # -- queries --------------------------------------------------------------------------
    def by_name(self, user: str, name: str) -> Resource | None:
        query = select(Resource).where(
            Resource.kind == self.kind, Resource.user == user, Resource.name == name
        )
        with self.db.session() as db:
            return db.scalars(query.order_by(Resource.created.desc())).first()

    def endpoint(self, user: str, name: str) -> Resource | None:
        """by_name for the calls to endpoints: from memory when looked up a moment ago,
        so that the hot path reads no database (every change drops what is kept)."""
        now = time.monotonic()
        kept = self._named.get((user, name))
        if kept is not None and now - kept[0] < NAME_CACHE_SECONDS:
            return kept[1]
        resource = self.by_name(user, name)
        if resource is not None:  # misses are not kept: anyone may ask for any name
            if len(self._named) >= NAME_CACHE_SIZE:
                self._named.clear()
            self._named[(user, name)] = (now, resource)
        return resource

    def _save(self, resource_id: str, **values) -> Resource:
        self._named.clear()
        return super()._save(resource_id, **values)

    async def _start(self, resource: Resource) -> None:
        try:
            await super()._start(resource)
        finally:
            self._named.clear()  # RUNNING now

    async def terminate(self, resource_id: str, *args, **kwargs) -> None:
        self._named.clear()  # TERMINATING: no call reaches it from now on
        await super().terminate(resource_id, *args, **kwargs)

    def by_name_or_404(self, user: str, name: str) -> Resource:
        resource = self.by_name(user, name)
        if resource is None:
            raise NotFound(f"There is no deployment {name!r}.")
        return resource

    def key_matches(self, resource: Resource, key: str) -> bool:
        stored = resource.spec.get("key_digest")
        return bool(stored) and hmac.compare_digest(stored, key_digest(key))

    # -- what users ask -------------------------------------------------------------------
    async def create_deployment(
        self, user: str, body: dict, limits: dict
    ) -> tuple[Resource, str | None]:
        """Start a deployment; (it, its access key when it has one: shown once)."""
        account = await self.accounts.account(user)
        home = Path(account.home) if account else Path(self.accounts.homes) / user
        try:
            spec = deployment_spec(body, home, self.settings.max_replicas)
        except SpecError as e:
            raise Invalid(str(e), "invalid_deployment") from e
        if self.by_name(user, spec["name"]) is not None:
            raise Conflict(
                f"You have a deployment called {spec['name']!r} already: update it, or "
                "delete it first.",
                "deployment_exists",
            )
        self.check_limits(user, spec, limits)
        key = None
        if spec["access"] == "key":
            key = secrets.token_urlsafe(KEY_BYTES)
            spec["key_digest"] = key_digest(key)
        return self.create(user, spec["name"], spec), key

    def new_key(self, resource: Resource) -> str:
        """Replace the access key of a deployment called with one."""
        if resource.spec.get("access") != "key":
            raise Conflict(
                f"Deployment {resource.name!r} is not called with a key: set its access to "
                "'key' first.",
                "no_key_access",
            )
        key = secrets.token_urlsafe(KEY_BYTES)
        self._save(resource.id, spec={**resource.spec, "key_digest": key_digest(key)})
        return key

    def update(self, resource: Resource, body: dict) -> tuple[Resource, str | None]:
        """Start changing a serving deployment (UPDATING until done): new replicas are
        ready before old ones stop. A change that fails leaves it serving as it was,
        saying why in its reason."""
        if resource.state != RUNNING:
            raise Conflict(
                f"Deployment {resource.name!r} is {self.api_state(resource)}: only one in "
                "service can be updated.",
                "not_in_service",
            )
        try:
            spec = update_spec(body, resource.spec, self.settings.max_replicas)
        except SpecError as e:
            raise Invalid(str(e), "invalid_deployment") from e
        if resource.id in self._updating:
            raise Conflict(f"Deployment {resource.name!r} is being updated.", "updating")
        key = None
        if spec["access"] == "key" and not spec.get("key_digest"):
            key = secrets.token_urlsafe(KEY_BYTES)
            spec["key_digest"] = key_digest(key)
        elif spec["access"] != "key":
            spec.pop("key_digest", None)
        self._updating.add(resource.id)
        task = asyncio.create_task(self._update(resource, spec))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return self.get(resource.id), key

    async def _update(self, resource: Resource, spec: dict) -> None:
        try:
            async with self._lock(resource):
                await self._apply(resource, spec)
            self._save(resource.id, state_reason=None)
        except (StartFailed, OSError) as e:
            self._save(resource.id, state_reason=f"The last update failed: {e}")
        except Exception:
            self.log.exception("Updating deployment %s", resource.id)
            self._save(resource.id, state_reason="The last update failed; admins can see why.")
        finally:
            self._updating.discard(resource.id)

    def _lock(self, resource: Resource) -> asyncio.Lock:
        return self._locks.setdefault(resource.id, asyncio.Lock())

    async def _apply(self, resource: Resource, spec: dict) -> None:
        backend = self.backend(resource)
        old = dict(resource.spec)
        backend.spec = spec
        # serverless runs as many as its traffic needs: one, or none at zero
        count = spec["replicas"] if spec["mode"] == "realtime" else len(backend.replicas)
        try:
            if spec["model_dir"] != old["model_dir"]:
                await backend.replace(spec["model_dir"], count)
            else:
                await backend.scale(count)
        except Exception:
            backend.spec = old
            raise
        self._save(resource.id, spec=spec, backend_state=backend.get_state())
        self.replicas_changed(resource.id)

    async def scale_to(self, resource: Resource, count: int) -> None:
        """Run `count` replicas (a serverless endpoint's cold start, or its scale to
        zero), between updates."""
        async with self._lock(resource):
            backend = self.backend(resource)
            if len(backend.replicas) == count:
                return
            await backend.scale(count)
            self._save(resource.id, backend_state=backend.get_state())
            self.replicas_changed(resource.id)

    async def delete(self, resource: Resource) -> None:
        """Stop its replicas and remove it: its endpoint answers 404 from then on."""
        await self.terminate(resource.id, "Deleted by its owner.")
        with self.db.session() as db:
            row = db.get(Resource, resource.id)
            if row is not None:
                db.delete(row)
        self._named.clear()
        self._locks.pop(resource.id, None)
        self.gateway.forget(resource.id)

    # -- replicas and the ledger --------------------------------------------------------------
    def replicas_changed(self, resource_id: str) -> None:
        """The number of running replicas changed: its ledger entry ends, and a new one
        counts the new number (none at zero: serverless at zero costs nothing)."""
        resource = self.get(resource_id)
        if resource is None or resource.state != RUNNING:
            return
        count = self.ledger_cores(resource)
        now = self.now()
        if resource.ledger_id is not None:
            entry = self.ledger.get(resource.ledger_id)
            if entry is not None and entry.cores == count:
                return
            self.ledger.close(resource.ledger_id, "scaled", at=now)
        ledger_id = None
        if count:
            entry = self.ledger.open(
                self.kind,
                resource.user,
                self.ledger_profile(resource),
                resource.id,
                cores=count,
                at=now,
            )
            ledger_id = entry.id
        self._save(resource_id, ledger_id=ledger_id)
        self.running_changed(resource.user)
