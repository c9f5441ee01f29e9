"""A deployment as local model servers. Each replica is `python -m
labdeck.deployments.server` started through the supervisor as the owner's account, in a
cgroup of its own with the deployment's memory; it binds 127.0.0.1 on a port it picks,
says which in its ready file once its model is loaded, and answers only requests that
carry the deployment's replica token (which only the service's gateway holds).

Scaling adds or stops replicas; an update starts the new ones before it stops the old,
so the gateway always has a replica to send a request to.
"""

import asyncio
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from ..cgroups import Cgroup, Limits
from ..net import ForeignListener, require_listener
from ..service.resources import Progress, ResourceBackend, StartFailed
from ..supervisor import NotReady, ProcessRecord, Supervised, file_exists, read_own_text
from .server import SPEC_ENV, TOKEN_ENV

# a model server's threads and processes (uvicorn, BLAS threads) count against this
REPLICA_PIDS = 512
READY_TIMEOUT_SECONDS = 120.0
# a cold start waits on this: look for the ready file often (a stat each time)
READY_POLL_SECONDS = 0.01
# a replica taken out of service finishes the requests it has for this long at most
DRAIN_SECONDS = 30.0
MB = 1024 * 1024


@dataclass
class Replica:
    index: int
    process: Supervised
    cgroup: Cgroup | None
    port: int
    model_dir: str
    setup_seconds: float
    in_flight: int = 0  # requests the gateway has sent it that are not answered yet

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "process": self.process.record.to_json(),
            "cgroup": self.cgroup.name if self.cgroup else None,
            "port": self.port,
            "model_dir": self.model_dir,
            "setup_seconds": self.setup_seconds,
        }


class LocalDeploymentBackend(ResourceBackend):
    """The replicas of one deployment."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.replicas: list[Replica] = []
        self.token: str | None = None
        self._serial = 0
        self._next = 0  # round robin

    # -- saved state ----------------------------------------------------------------------
    def get_state(self) -> dict:
        return {
            "token": self.token,
            "serial": self._serial,
            "replicas": [r.to_json() for r in self.replicas],
        }

    def load_state(self, state: dict) -> None:
        self.token = state.get("token")
        self._serial = state.get("serial", 0)
        for saved in state.get("replicas", []):
            cgroup = self.supervisor.find_limit(saved["cgroup"]) if saved.get("cgroup") else None
            process = self.supervisor.adopt(
                ProcessRecord.from_json(saved["process"]),
                self.work_dir / f"replica-{saved['index']}.log",
                cgroup,
            )
            self.replicas.append(
                Replica(
                    saved["index"],
                    process,
                    cgroup,
                    saved["port"],
                    saved["model_dir"],
                    saved.get("setup_seconds", 0.0),
                )
            )

    # -- the lifecycle --------------------------------------------------------------------
    async def start(self, progress: Progress) -> None:
        self.work_dir.parent.mkdir(parents=True, exist_ok=True)
        self.work_dir.parent.chmod(0o711)
        self.make_passable_dir(self.work_dir)
        self.make_private_dir(self.work_dir / "run")
        self.token = secrets.token_urlsafe(32)
        # serverless starts one replica too: a model that cannot load fails now, not later
        wanted = self.spec["replicas"] if self.spec["mode"] == "realtime" else 1
        for done in range(wanted):
            progress(f"Loading the model in replica {done + 1} of {wanted}", done, wanted)
            self.replicas.append(await self.start_replica(self.spec["model_dir"]))
        progress("In service", wanted, wanted)

    async def start_replica(self, model_dir: str) -> Replica:
        """One more model server, once its model is loaded; StartFailed saying why not."""
        self._serial += 1
        index = self._serial
        ready = self.work_dir / "run" / f"replica-{index}.json"
        ready.unlink(missing_ok=True)
        memory = self.spec["memory_mb"] * MB
        # named after its folder: a recommender's trial replicas have cgroups of their own
        cgroup = self.supervisor.limit(
            f"deployment-{self.work_dir.name}-{index}", Limits(None, memory, REPLICA_PIDS)
        )
        settings = {"model_dir": model_dir, "name": self.spec["name"], "ready_file": str(ready)}
        process = await self.supervisor.start(
            f"replica-{index}",
            [sys.executable, "-m", "labdeck.deployments.server"],
            log_path=self.work_dir / f"replica-{index}.log",
            env={SPEC_ENV: json.dumps(settings), TOKEN_ENV: self.token},
            cwd=Path("/"),
            account=self.account,
            cgroup=cgroup,
        )
        try:
            await process.wait_ready(file_exists(ready), READY_TIMEOUT_SECONDS, READY_POLL_SECONDS)
            said = self._ready(ready)
            if not isinstance(said.get("port"), int):
                raise StartFailed(self._failure(said, process, cgroup))
            # the replica token goes only to the process labdeck started
            require_listener(process.pid, said["port"])
        except ForeignListener as e:
            await self.supervisor.terminate([process])
            await self.supervisor.release(cgroup)
            raise StartFailed(f"The model server did not listen where it said: {e}.") from e
        except (NotReady, StartFailed) as e:
            await self.supervisor.terminate([process])
            await self.supervisor.release(cgroup)
            if isinstance(e, StartFailed):
                raise
            raise StartFailed(self._failure(self._ready(ready), process, cgroup)) from e
        return Replica(index, process, cgroup, said["port"], model_dir, said["setup_seconds"])

    @staticmethod
    def _ready(path: Path) -> dict:
        """What a model server wrote in its ready file (nothing yet: {})."""
        try:
            said = json.loads(read_own_text(path))
        except (OSError, ValueError):
            return {}
        return said if isinstance(said, dict) else {}

    @staticmethod
    def _failure(said: dict, process: Supervised, cgroup: Cgroup | None) -> str:
        if cgroup is not None and cgroup.oom_killed():
            return "Out of memory while loading the model: ask for more memory_mb."
        error = said.get("error")
        if isinstance(error, str) and error:
            return f"The model could not be loaded: {error[-2000:]}"
        tail = " | ".join(process.tail(16 * 1024)[-5:])
        return f"The model server did not start: {tail or 'no output'}"

    async def scale(self, count: int) -> None:
        """Run `count` replicas: start the missing ones, or stop the newest extra ones."""
        while len(self.replicas) < count:
            self.replicas.append(await self.start_replica(self.spec["model_dir"]))
        if len(self.replicas) > count:
            extra = self.replicas[count:]
            self.replicas = self.replicas[:count]
            await self._stop(extra)

    async def replace(self, model_dir: str, count: int) -> None:
        """Serve model_dir on `count` new replicas, then stop the old ones: every request
        meanwhile goes to a replica that runs."""
        fresh = []
        try:
            for _ in range(count):
                fresh.append(await self.start_replica(model_dir))
        except BaseException:
            await self._stop(fresh, drain=False)
            raise
        old, self.replicas = self.replicas, fresh
        await self._stop(old)

    async def _stop(self, replicas: list[Replica], drain: bool = True) -> None:
        """Stop replicas already out of the rotation, once their requests are answered."""
        if not replicas:
            return
        loop = asyncio.get_running_loop()
        give_up = loop.time() + DRAIN_SECONDS
        while drain and any(r.in_flight for r in replicas) and loop.time() < give_up:
            await asyncio.sleep(0.01)
        await self.supervisor.terminate([r.process for r in replicas])
        await asyncio.gather(*(self.supervisor.release(r.cgroup) for r in replicas))

    async def poll(self) -> str | None:
        for replica in self.replicas:
            if not replica.process.running():
                if replica.cgroup is not None and replica.cgroup.oom_killed():
                    return (
                        f"Replica {replica.index} ran out of memory "
                        f"({self.spec['memory_mb']} MB): ask for more memory_mb."
                    )
                tail = " | ".join(replica.process.tail(16 * 1024)[-3:])
                return f"Replica {replica.index} exited: {tail or 'no output'}"
        return None

    async def stop(self) -> None:
        replicas, self.replicas = self.replicas, []
        await self._stop(replicas, drain=False)

    # -- for the gateway --------------------------------------------------------------------
    def pick(self) -> Replica | None:
        """The next replica in turn, or None at zero."""
        if not self.replicas:
            return None
        self._next = (self._next + 1) % len(self.replicas)
        return self.replicas[self._next]
