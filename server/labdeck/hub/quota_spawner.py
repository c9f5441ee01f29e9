"""Runtime profiles, session quotas, GPUs and the usage ledger around any JupyterHub spawner.

`QuotaSpawnerMixin` goes first in a spawner's bases, before the spawner it wraps
(`class MySpawner(QuotaSpawnerMixin, batchspawner.SlurmSpawner)`). Before the wrapped
spawner starts anything, the labdeck service is asked for a session: it refuses when the
user's time is used up, or queues them when no GPU is free. The grant carries the
session's environment (its GPUs, its deadline); the ledger entry is closed when the
server stops or dies. Deadline stops come from the service through the hub's API, as for
any spawner.

Subclasses turn a profile into their own resource requests in `apply_profile`, and may
wrap the wrapped spawner's start in `launch_server` and say why a server died in
`end_reason`.
"""

import asyncio
import html

from jupyterhub.spawner import SpawnException
from traitlets import Float, Integer, Unicode
from traitlets.config import Configurable

from ..quota.profiles import Profile, RuntimeProfiles
from .session_client import SessionClient
from .spawn_form import plain_form, runtime_form

QUEUE_POLL_SECONDS = 20


class QuotaSpawnerMixin(Configurable):
    """labdeck's sessions around a JupyterHub spawner (see the module docstring)."""

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

    gpu_queue_timeout = Integer(
        3600,
        help="Longest wait (seconds) in the GPU queue before a spawn gives up.",
    ).tag(config=True)

    end_timeout = Float(
        5.0,
        help="Seconds to wait for the service when recording a session's end.",
    ).tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.runtime_profiles = RuntimeProfiles(parent=self)
        self.session_id: int | None = None
        self.session_env: dict = {}
        self._stopping = False
        self._configured_start_timeout = self.start_timeout
        self._configured_limits = (self.cpu_limit, self.mem_limit)
        self._progress: list[dict] = []
        self._progress_changed = asyncio.Event()
        # the spawn form lists the runtimes (a subclass's own form, if it sets one, wins)
        if not self.options_form:
            self.options_form = self._render_options_form

    # -- what subclasses adapt ----------------------------------------------------------
    def apply_profile(self, profile: Profile) -> None:
        """Turn the chosen profile into the wrapped spawner's requests (CPU, memory...);
        what the profile leaves out is the configured value, not the last session's."""
        self.cpu_limit = profile.cpu_limit or self._configured_limits[0]
        self.mem_limit = profile.mem_limit or self._configured_limits[1]

    async def launch_server(self):
        """Start the server with the wrapped spawner; returns its address."""
        return await super().start()

    async def end_reason(self) -> str:
        """Why a server that died on its own ended (the ledger's reason)."""
        return "crash"

    async def server_stopped(self) -> None:
        """Clean up after the server stopped or failed to start."""

    async def raw_poll(self):
        """The wrapped spawner's poll, without the session bookkeeping."""
        return await super().poll()

    # -- choosing a runtime -------------------------------------------------------------
    async def _render_options_form(self, spawner) -> str:
        default = self.runtime_profiles.get(None)
        default_name = default.name if default else ""
        runtimes, notice = await asyncio.gather(self._runtimes(), self._last_end_notice())
        if runtimes is None:
            form = plain_form(self.runtime_profiles.all(), default_name)
        else:
            form = runtime_form(runtimes, default_name)
        if notice:
            notice = (
                '<div class="alert alert-warning" role="alert" data-testid="labdeck-last-end">'
                f"{html.escape(notice)}</div>"
            )
        return notice + form

    async def _runtimes(self) -> list[dict] | None:
        """The runtimes with the user's time left on each, or None when the service does
        not answer in time (the form then lists the runtimes without it)."""
        try:
            runtimes = await asyncio.wait_for(
                self.sessions.runtimes(self.user.name, self.end_timeout), self.end_timeout
            )
        except (SpawnException, TimeoutError, ValueError) as e:
            self.log.warning("The spawn form shows runtimes without their time left: %s", e)
            return None
        if not isinstance(runtimes, list) or not all(
            isinstance(r, dict) and {"name", "display_name", "available"} <= r.keys()
            for r in runtimes
        ):
            self.log.warning("The service's runtimes are not as expected: %.200r", runtimes)
            return None
        return runtimes

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

    def chosen_profile(self) -> Profile:
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
        profile = self.chosen_profile()
        # waiting in the GPU queue counts against JupyterHub's start timeout
        queue = self.gpu_queue_timeout if profile.gpus else 0
        self.start_timeout = self._configured_start_timeout + queue
        return super().run_pre_spawn_hook()

    # -- start and stop -----------------------------------------------------------------
    @property
    def sessions(self) -> SessionClient:
        return SessionClient(self.service_url, self.service_token)

    async def start(self):
        profile = self.chosen_profile()
        self._progress = []
        grant = await self._begin_session(profile)
        self.session_id = grant["id"]
        self.session_env = grant.get("environment", {})
        self.apply_profile(profile)
        self.report_progress(50, f"Starting your {profile.display_name} session")
        try:
            return await self.launch_server()
        except Exception:
            await self.server_stopped()
            await self._end_session("crash")
            raise

    async def _begin_session(self, profile: Profile) -> dict:
        self.report_progress(10, f"Checking your {profile.display_name} quota")
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
                self.report_progress(20, body["message"])
        except asyncio.CancelledError:
            # the spawn was cancelled while waiting for a GPU: give the place up
            await self._quietly(self.sessions.leave_queue(self.user.name))
            raise

    async def poll(self):
        status = await self.raw_poll()
        if status is not None and not self._stopping:
            # the server died without being asked to: a limit, a crash, the scheduler
            reason = await self.end_reason()
            await self.server_stopped()
            await self._end_session(reason)
        return status

    # Set by labdeck's hub (labdeck.hub.app) on the servers it stops as it shuts down,
    # before it stops the service: their sessions end with reason hub_shutdown.
    hub_shutting_down = False

    async def stop(self, now=False):
        self._stopping = True
        try:
            await super().stop(now=now)
            await self.server_stopped()
        finally:
            self._stopping = False
        await self._end_session("hub_shutdown" if self.hub_shutting_down else "user")

    async def _end_session(self, reason: str) -> None:
        if self.session_id is None:
            return
        session_id, self.session_id = self.session_id, None
        # If the service is down (a crash, or a plain JupyterHub stopping services first),
        # it closes the entry itself when it comes back (from its last heartbeat).
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

    # -- progress and state -------------------------------------------------------------
    def report_progress(self, progress: int, message: str) -> None:
        """Add a message for the spawn page."""
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
        return state

    def load_state(self, state):
        super().load_state(state)
        self.session_id = state.get("labdeck_session")
        self.session_env = state.get("labdeck_env", {})
