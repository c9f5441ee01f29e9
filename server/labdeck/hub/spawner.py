"""The labdeck spawner: JupyterHub's local-process spawner with labdeck's sessions around
it (quota_spawner), each lab in a cgroup with its profile's limits and, in isolation
mode, as the user's own OS account.
"""

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner, SpawnException, set_user_setuid
from tornado import httpclient
from traitlets import Bool, Integer, default

from ..cgroups import Cgroup, Cgroups, Limits
from ..net import listens_on
from ..supervisor import JOIN_CGROUP_FIRST
from .accounts_mixin import SystemAccountsMixin
from .quota_spawner import QuotaSpawnerMixin


class LabdeckSpawner(QuotaSpawnerMixin, SystemAccountsMixin, SimpleLocalProcessSpawner):
    """Starts a user's JupyterLab as a local process with a persistent home."""

    allow_root = Bool(
        help="Pass --allow-root to user servers; needed when the hub runs as root.",
    ).tag(config=True)

    pids_limit = Integer(
        4096,
        help="""Most processes and threads a session may have at once: a fork bomb in one
        lab stops there instead of taking the machine from everyone.""",
    ).tag(config=True)

    @default("allow_root")
    def _allow_root_default(self):
        return os.geteuid() == 0

    @default("cmd")
    def _cmd_default(self):
        # The singleuser entry point installed beside this Python, not whatever PATH finds.
        local = Path(sys.executable).with_name("jupyterhub-singleuser")
        return [str(local) if local.exists() else shutil.which("jupyterhub-singleuser")]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cgroups = Cgroups()
        self.cgroup: Cgroup | None = None

    # -- what the mixin asks of a spawner ---------------------------------------------------
    async def launch_server(self):
        if self.isolation:
            await self.prepare_system_user()
        address = await self._start_limited()
        await self._wait_until_answering(*address)
        return address

    async def end_reason(self) -> str:
        oom = self.cgroup is not None and self.cgroup.oom_killed()
        return "out_of_memory" if oom else "crash"

    async def server_stopped(self) -> None:
        """Kill whatever is left of the session (detached processes too)."""
        if self.cgroup is not None:
            await self.cgroup.release()

    @property
    def cgroup_name(self) -> str:
        """lab-<user>-<server>, readable, with a hash so that no two servers share one."""
        server = f"{self.user.name}-{self.name}" if self.name else self.user.name
        readable = re.sub(r"[^A-Za-z0-9_.-]", "_", server)[:40]
        digest = hashlib.sha256(f"{self.user.name}/{self.name}".encode()).hexdigest()[:8]
        return f"lab-{readable}-{digest}"

    async def _start_limited(self):
        """Start the server inside a cgroup with the profile's CPU, memory and process
        limits (where cgroups are writable): it joins before it runs any code."""
        if self.cgroups.available() is not None:
            return await super().launch_server()
        # cpu_limit and mem_limit (bytes) are the profile's, set by start()
        limits = Limits(self.cpu_limit, self.mem_limit, self.pids_limit)
        self.cgroup = self.cgroups.create(self.cgroup_name, limits)
        cmd, popen_kwargs = self.cmd, self.popen_kwargs
        self.cmd = ["/bin/sh", "-c", JOIN_CGROUP_FIRST, "labdeck-lab", *cmd]
        self.popen_kwargs = {**popen_kwargs, "stdin": subprocess.PIPE}
        try:
            address = await super().launch_server()
        finally:
            self.cmd, self.popen_kwargs = cmd, popen_kwargs
        with self.proc.stdin:
            self.cgroup.add(self.proc.pid)
            self.proc.stdin.write(b"go\n")
        return address

    def make_preexec_fn(self, name):
        if not self.isolation:
            return super().make_preexec_fn(name)
        # drop to the user's own account, starting in their home
        return set_user_setuid(self.system_user, chdir=True)

    def user_env(self, env):
        env = super().user_env(env)
        if self.isolation:
            env["USER"] = self.system_user
        return env

    async def _wait_until_answering(self, ip: str, port: int) -> None:
        """Return once the server answers (polled every 50 ms).

        The hub then checks it once and finds it up; its own check backs off
        exponentially and, alone, often finds a ready server a second or more late.
        A server that dies or stays silent is left for the hub to report as usual.

        The port was free when the hub chose it; if another local program bound it first,
        the user's requests (their cookies) must never be routed there: what answers must
        be the process this spawner started.
        """
        url = f"http://{ip}:{port}{self.server.base_url}api"
        client = httpclient.AsyncHTTPClient()
        give_up = time.monotonic() + self.http_timeout
        while time.monotonic() < give_up and await self.raw_poll() is None:
            try:
                await client.fetch(url, request_timeout=2, raise_error=False)
            except (OSError, httpclient.HTTPClientError):  # not listening yet, or timed out
                await asyncio.sleep(0.05)
                continue
            if not listens_on(self.proc.pid, port, ip):
                raise SpawnException(
                    "Another program took the port chosen for your server. Try again.",
                    log_message=f"{ip}:{port} answered, not from process {self.proc.pid}",
                    reason="port_taken",
                    status_code=503,
                )
            return

    async def wait_for_death(self, timeout=10):
        """Poll every death_interval until the process is gone.

        JupyterHub's default backs off exponentially (0.1, 0.2, 0.4, 0.8, 1.6 s...), which
        can double the time a stop takes; a deadline should end a session promptly.
        """
        give_up = time.monotonic() + timeout
        while time.monotonic() < give_up:
            if await self.poll() is not None:
                return True
            await asyncio.sleep(self.death_interval)
        return False

    def get_args(self):
        args = super().get_args()
        if self.allow_root and "--allow-root" not in args:
            args.append("--allow-root")
        return args

    def get_state(self):
        state = super().get_state()
        if self.cgroup is not None:
            state["labdeck_cgroup"] = self.cgroup.name
        return state

    def load_state(self, state):
        super().load_state(state)
        if state.get("labdeck_cgroup"):
            self.cgroup = self.cgroups.existing(state["labdeck_cgroup"])
