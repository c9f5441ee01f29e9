"""The labdeck spawner: runtime profiles, quota checks, GPUs and the usage ledger around
JupyterHub's local-process spawner.

Before any process starts, the labdeck service is asked for a session: it refuses when
the user's time is used up, or queues them when no GPU is free. The grant carries the
session's environment (its GPUs, its deadline); the ledger entry is closed when the
server stops.
"""

import asyncio
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner, SpawnException, set_user_setuid
from tornado import httpclient
from traitlets import Bool, Float, Integer, Unicode, default

from ..accounts import isolation_by_default
from ..cgroups import Cgroup, Cgroups, Limits
from ..net import listens_on
from ..quota.profiles import RuntimeProfiles
from ..supervisor import JOIN_CGROUP_FIRST
from .session_client import SessionClient
from .system_users import SystemUserError, ensure_system_user, system_user_name

QUEUE_POLL_SECONDS = 20


class LabdeckSpawner(SimpleLocalProcessSpawner):
    """Starts a user's JupyterLab as a local process with a persistent home."""

    service_url = Unicode(
        help="""URL of the labdeck service as the hub and user servers reach it.

        The labdeck server extension in each lab forwards `/user/<name>/labdeck/api/...`
        there, authenticated with the server's own hub token.
        """,
    ).tag(config=True)

    service_token = Unicode(
        help="The labdeck service's API token: how the spawner begins and ends sessions.",
    ).tag(config=True)

    instance = Unicode(
        "",
        help="Marker put in every user server's environment so `labdeck up` can find them.",
    ).tag(config=True)

    allow_root = Bool(
        help="Pass --allow-root to user servers; needed when the hub runs as root.",
    ).tag(config=True)

    gpu_queue_timeout = Integer(
        3600,
        help="Longest wait (seconds) in the GPU queue before a spawn gives up.",
    ).tag(config=True)

    isolation = Bool(
        help="""Run each user's server as an OS account of its own, created on first spawn
        (home mode 0700), as The Littlest JupyterHub does. On by default when the hub runs
        as root (it needs root), off otherwise. Needs a Python every account can run
        (scripts/setup uses Debian's).""",
    ).tag(config=True)

    system_user_prefix = Unicode(
        "labdeck-",
        help="Prefix of the OS account names made in isolation mode (labdeck-alice).",
    ).tag(config=True)

    pids_limit = Integer(
        4096,
        help="""Most processes and threads a session may have at once: a fork bomb in one
        lab stops there instead of taking the machine from everyone.""",
    ).tag(config=True)

    end_timeout = Float(
        5.0,
        help="Seconds to wait for the service when recording a session's end.",
    ).tag(config=True)

    @default("isolation")
    def _isolation_default(self):
        return isolation_by_default()

    @default("allow_root")
    def _allow_root_default(self):
        return os.geteuid() == 0

    @default("cmd")
    def _cmd_default(self):
        # The singleuser entry point installed beside this Python, not whatever PATH finds.
        local = Path(sys.executable).with_name("jupyterhub-singleuser")
        return [str(local) if local.exists() else shutil.which("jupyterhub-singleuser")]

    @default("options_form")
    def _options_form_default(self):
        return self._render_options_form

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.runtime_profiles = RuntimeProfiles(parent=self)
        self.cgroups = Cgroups()
        self.cgroup: Cgroup | None = None
        self.session_id: int | None = None
        self.session_env: dict = {}
        self._stopping = False
        self._configured_start_timeout = self.start_timeout
        self._progress: list[dict] = []
        self._progress_changed = asyncio.Event()

    # -- choosing a runtime -------------------------------------------------------------------
    async def _render_options_form(self, spawner) -> str:
        default = self.runtime_profiles.get(None)
        items = []
        for profile in self.runtime_profiles.all():
            checked = " checked" if profile.name == default.name else ""
            items.append(
                '<label class="labdeck-profile" style="display:block;margin:0.5em 0">'
                f'<input type="radio" name="profile" value="{html.escape(profile.name)}"'
                f"{checked}> <strong>{html.escape(profile.display_name)}</strong>"
                f'<br><span class="text-muted">{html.escape(profile.description)}</span>'
                "</label>"
            )
        notice = await self._last_end_notice()
        if notice:
            notice = (
                '<div class="alert alert-warning" role="alert" data-testid="labdeck-last-end">'
                f"{html.escape(notice)}</div>"
            )
        return notice + "<p>Choose a runtime for this session.</p>" + "".join(items)

    async def _last_end_notice(self) -> str:
        """Why the user's last session ended, when it is something they should hear."""
        try:
            last = await asyncio.wait_for(self.sessions.last(self.user.name), self.end_timeout)
        except (SpawnException, TimeoutError):
            return ""  # the form works without it
        if last and last.get("end_reason") == "out_of_memory":
            return (
                "Your last session was stopped because it used more memory than its runtime "
                "allows. Choose a runtime with more memory, or use less."
            )
        return ""

    def options_from_form(self, formdata):
        return {"profile": (formdata.get("profile") or [""])[0]}

    def _chosen_profile(self):
        name = self.user_options.get("profile") or None
        profile = self.runtime_profiles.get(name)
        if profile is None:
            raise SpawnException(
                f"There is no runtime called {name!r}. Choose one of: "
                f"{', '.join(self.runtime_profiles.names())}.",
                reason="unknown_profile",
                status_code=400,
            )
        return profile

    def run_pre_spawn_hook(self):
        profile = self._chosen_profile()
        # waiting in the GPU queue counts against JupyterHub's start timeout
        queue = self.gpu_queue_timeout if profile.gpus else 0
        self.start_timeout = self._configured_start_timeout + queue
        return super().run_pre_spawn_hook()

    # -- start and stop ---------------------------------------------------------------------
    @property
    def sessions(self) -> SessionClient:
        return SessionClient(self.service_url, self.service_token)

    async def start(self):
        profile = self._chosen_profile()
        self._progress = []
        grant = await self._begin_session(profile)
        self.session_id = grant["id"]
        self.session_env = grant.get("environment", {})
        self.cpu_limit = profile.cpu_limit
        if profile.mem_limit:
            self.mem_limit = profile.mem_limit
        self._report(50, f"Starting your {profile.display_name} session")
        try:
            if self.isolation:
                await self._prepare_system_user()
            address = await self._start_limited()
            await self._wait_until_answering(*address)
            return address
        except Exception:
            await self._release_cgroup()
            await self._end_session("crash")
            raise

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
            return await super().start()
        # cpu_limit and mem_limit (bytes) are the profile's, set by start()
        limits = Limits(self.cpu_limit, self.mem_limit, self.pids_limit)
        self.cgroup = self.cgroups.create(self.cgroup_name, limits)
        cmd, popen_kwargs = self.cmd, self.popen_kwargs
        self.cmd = ["/bin/sh", "-c", JOIN_CGROUP_FIRST, "labdeck-lab", *cmd]
        self.popen_kwargs = {**popen_kwargs, "stdin": subprocess.PIPE}
        try:
            address = await super().start()
        finally:
            self.cmd, self.popen_kwargs = cmd, popen_kwargs
        with self.proc.stdin:
            self.cgroup.add(self.proc.pid)
            self.proc.stdin.write(b"go\n")
        return address

    async def _release_cgroup(self) -> None:
        """Kill whatever is left of the session (detached processes too)."""
        if self.cgroup is not None:
            await self.cgroup.release()

    @property
    def system_user(self) -> str:
        return system_user_name(self.system_user_prefix, self.user.name)

    async def _prepare_system_user(self) -> None:
        try:
            await ensure_system_user(self.system_user, Path(self.home_dir))
        except SystemUserError as e:
            raise SpawnException(
                "Your account could not be prepared on this machine. Tell an admin.",
                log_message=str(e),
                reason="system_user",
                status_code=500,
            ) from e

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
        while time.monotonic() < give_up and await super().poll() is None:
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

    async def _begin_session(self, profile) -> dict:
        self._report(10, f"Checking your {profile.display_name} quota")
        try:
            while True:
                status, body = await self.sessions.begin(
                    self.user.name,
                    profile.name,
                    QUEUE_POLL_SECONDS if profile.gpus else 0,
                    server=self.name,
                )
                if status == 201:
                    return body
                self._report(20, body["message"])
        except asyncio.CancelledError:
            # the spawn was cancelled while waiting for a GPU: give the place up
            await self._quietly(self.sessions.leave_queue(self.user.name))
            raise

    async def poll(self):
        status = await super().poll()
        if status is not None and not self._stopping:
            # the server died without being asked to: the memory limit, or a crash
            oom = self.cgroup is not None and self.cgroup.oom_killed()
            await self._release_cgroup()
            await self._end_session("out_of_memory" if oom else "crash")
        return status

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

    async def stop(self, now=False):
        self._stopping = True
        try:
            await super().stop(now=now)
            await self._release_cgroup()
        finally:
            self._stopping = False
        await self._end_session("user")

    async def _end_session(self, reason: str) -> None:
        if self.session_id is None:
            return
        session_id, self.session_id = self.session_id, None
        # During hub shutdown the service is already gone: the service closes the entry
        # itself when it comes back (from its last heartbeat).
        await self._quietly(self.sessions.end(session_id, reason))

    async def _quietly(self, call) -> None:
        try:
            await asyncio.wait_for(call, self.end_timeout)
        except (SpawnException, TimeoutError) as e:
            self.log.warning("labdeck service did not record it: %s", e)

    def get_env(self):
        env = super().get_env()
        env.update(self.session_env)
        if self.service_url:
            env["LABDECK_SERVICE_URL"] = self.service_url
        if self.instance:
            env["LABDECK_INSTANCE"] = self.instance
        return env

    def get_args(self):
        args = super().get_args()
        if self.allow_root and "--allow-root" not in args:
            args.append("--allow-root")
        return args

    # -- progress and state -----------------------------------------------------------------
    def _report(self, progress: int, message: str) -> None:
        self._progress.append({"progress": progress, "message": message})
        self._progress_changed.set()

    async def progress(self):
        """Messages for the spawn page: quota check, GPU queue place, start."""
        sent = 0
        while True:
            while sent < len(self._progress):
                yield self._progress[sent]
                sent += 1
            self._progress_changed.clear()
            await self._progress_changed.wait()

    def get_state(self):
        state = super().get_state()
        if self.session_id is not None:
            state["labdeck_session"] = self.session_id
            state["labdeck_env"] = self.session_env
        if self.cgroup is not None:
            state["labdeck_cgroup"] = self.cgroup.name
        return state

    def load_state(self, state):
        super().load_state(state)
        self.session_id = state.get("labdeck_session")
        self.session_env = state.get("labdeck_env", {})
        if state.get("labdeck_cgroup"):
            self.cgroup = self.cgroups.existing(state["labdeck_cgroup"])
