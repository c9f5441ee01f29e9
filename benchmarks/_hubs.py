"""Shared by the benchmarks: start and stop hubs, spawn and stop user servers.

Everything a benchmark starts lives under one temp dir, so `pids_running_under` can
find (and end, by pid) anything a hub's own shutdown missed.
"""

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

# The hub, the proxy and `labdeck` installed beside the interpreter running us (.venv/bin).
VENV_BIN = Path(sys.executable).parent
POLL_SECONDS = 0.05
HUB_START_TIMEOUT = 120
SPAWN_TIMEOUT = 180
STOP_TIMEOUT = 60
HUB_STOP_TIMEOUT = 60
# How often a waiting spawn also asks the hub whether the spawn failed.
SPAWN_CHECK_SECONDS = 1.0
# As root labdeck runs each user's code as an OS account of its own: this run's accounts
# share a prefix, and go when it ends.
ACCOUNT_PREFIX = f"ldb{secrets.token_hex(2)}-"


class BenchmarkError(Exception):
    """Something failed functionally; the run cannot give meaningful figures."""


@dataclass
class Hub:
    """A running hub the benchmark drives: where it is, its admin token, its process."""

    name: str
    url: str
    process: subprocess.Popen
    workdir: Path
    log_path: Path
    # The token itself, or (labdeck) the file the hub writes it to when it starts.
    token: str = ""
    token_file: Path | None = None
    # A line the hub's log shows once it is fully up (labdeck: after its service too).
    ready_line: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        # Room for every concurrent spawn's poll loop without dropping connections.
        adapter = HTTPAdapter(pool_maxsize=64)
        self.session.mount("http://", adapter)

    def use_token(self) -> None:
        if self.token_file is not None:
            self.token = self.token_file.read_text().strip()
        self.session.headers["Authorization"] = f"token {self.token}"

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.url}hub/api/{path}", **kwargs)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchmarkError(f"{self.name} hub exited with code {self.process.returncode}")


# --- starting and stopping hubs -------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def restore_default_signals():
    # A shell that ran us in the background may have set SIGINT to ignored, and children
    # inherit that: the hub would then hang ~60 s on shutdown.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def launch(cmd: list[str], workdir: Path, log_path: Path) -> subprocess.Popen:
    """Start a hub in its own session (our Ctrl-C must not reach it half-way)."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            cmd,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=restore_default_signals,
        )


def make_root(prefix: str) -> Path:
    """The run's temp dir; every user account passes through it to its home."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o711)
    return root


def launch_labdeck_hub(
    workdir: Path, config: str = "", name: str = "labdeck", args: tuple[str, ...] = ()
) -> Hub:
    """`labdeck up` on its defaults, plus `config` (an admin's override file) and `args`
    (more of its options, e.g. `--backend slurm`)."""
    port = free_port()
    state_dir = workdir / "state"
    config_d = state_dir / "jupyterhub_config.d"
    config_d.mkdir(parents=True)
    prefix = f"c.SystemAccountsMixin.system_user_prefix = {ACCOUNT_PREFIX!r}\n"
    (config_d / "benchmark.py").write_text(prefix + config)
    cmd = [str(VENV_BIN / "labdeck"), "up", "--ip", "127.0.0.1", "--port", str(port)]
    cmd += ["--state-dir", str(state_dir), *args]
    log_path = workdir / "labdeck.log"
    process = launch(cmd, workdir, log_path)
    token_file = state_dir / "admin-token"
    return Hub(
        name,
        f"http://127.0.0.1:{port}/",
        process,
        workdir,
        log_path,
        token_file=token_file,
        ready_line="labdeck is running",
    )


def local_spawner(workdir: Path) -> dict:
    """The stock hub's spawner: SimpleLocalProcessSpawner, homes under the run's dir."""
    return {
        "JupyterHub.spawner_class": "jupyterhub.spawner.SimpleLocalProcessSpawner",
        "SimpleLocalProcessSpawner.home_dir_template": str(workdir / "homes" / "{username}"),
        "Spawner.args": ["--allow-root"] if os.geteuid() == 0 else [],
    }


def stock_config(workdir: Path, port: int, token: str, spawner: dict) -> str:
    """jupyterhub_config.py for stock JupyterHub with `spawner` (its settings): the
    baseline labdeck is compared with."""
    settings = {
        "JupyterHub.ip": "127.0.0.1",
        "JupyterHub.port": port,
        "JupyterHub.hub_ip": "127.0.0.1",
        "JupyterHub.hub_port": free_port(),
        "ConfigurableHTTPProxy.api_url": f"http://127.0.0.1:{free_port()}",
        "ConfigurableHTTPProxy.command": [str(VENV_BIN / "configurable-http-proxy")],
        # The venv is not on PATH; labdeck's spawner makes the same choice by default.
        "Spawner.cmd": [str(VENV_BIN / "jupyterhub-singleuser")],
        "Spawner.default_url": "/lab",
        # Same limits labdeck uses, so a slow spawn is timed rather than cut off.
        "Spawner.start_timeout": 120,
        "Spawner.http_timeout": 60,
        # PAM (the default) only admits system users; the benchmark logs in by token alone.
        "JupyterHub.authenticator_class": "jupyterhub.auth.NullAuthenticator",
        "JupyterHub.api_tokens": {token: "admin"},
        "Authenticator.admin_users": {"admin"},
        "JupyterHub.cleanup_servers": True,
        "JupyterHub.db_url": f"sqlite:///{workdir / 'jupyterhub.sqlite'}",
        "JupyterHub.cookie_secret_file": str(workdir / "jupyterhub_cookie_secret"),
        **spawner,
    }
    return "".join(f"c.{key} = {value!r}\n" for key, value in settings.items())


def launch_stock_hub(workdir: Path, config: str = "", spawner: dict | None = None) -> Hub:
    """Stock JupyterHub with `spawner`'s settings (default: local processes), plus
    `config` (more lines of its config file, e.g. a service)."""
    port = free_port()
    token = secrets.token_hex(32)
    config_file = workdir / "jupyterhub_config.py"
    settings = local_spawner(workdir) if spawner is None else spawner
    config_file.write_text(stock_config(workdir, port, token, settings) + config)
    log_path = workdir / "hub.log"
    process = launch([str(VENV_BIN / "jupyterhub"), "-f", str(config_file)], workdir, log_path)
    return Hub("stock", f"http://127.0.0.1:{port}/", process, workdir, log_path, token=token)


def wait_until_hub_ready(hub: Hub) -> None:
    deadline = time.monotonic() + HUB_START_TIMEOUT
    while time.monotonic() < deadline:
        hub.check_alive()
        try:
            if requests.get(f"{hub.url}hub/api/", timeout=2).status_code == 200 and logged(
                hub, hub.ready_line
            ):
                return
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.2)
    raise BenchmarkError(f"{hub.name} hub did not answer within {HUB_START_TIMEOUT} s")


def logged(hub: Hub, line: str) -> bool:
    try:
        return line in hub.log_path.read_text(errors="replace")
    except OSError:
        return False


def stop_hub(hub: Hub) -> None:
    """SIGTERM and wait: both hubs stop their proxy and user servers on the way out."""
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(HUB_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait()
    # Anything still running inside the hub's work dir (a user server, the proxy) was
    # started by this run and was missed by the hub's shutdown: end it by pid.
    end_processes(pids_running_under(hub.workdir))


def pids_running_under(directory: Path) -> list[int]:
    """Processes whose working directory is inside `directory` (ours, by construction)."""
    root = directory.resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = (entry / "cwd").resolve(strict=True)
        except OSError:
            continue  # gone, or not ours to inspect
        if cwd == root or root in cwd.parents:
            found.append(int(entry.name))
    return found


def end_processes(pids: list[int], grace_seconds: float = 5.0) -> None:
    for pid in pids:
        send_signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if is_running(pid)]
        time.sleep(0.1)
    for pid in pids:
        send_signal(pid, signal.SIGKILL)


def send_signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def log_tail(hub: Hub, lines: int = 30) -> str:
    try:
        return "\n".join(hub.log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- spawning and stopping user servers -----------------------------------------------


def create_user(hub: Hub, name: str) -> None:
    response = hub.api("POST", f"users/{name}")
    if response.status_code not in (201, 409):  # 409: already there, fine
        raise BenchmarkError(f"{hub.name}: creating {name} gave {response.status_code}")


def server_state(hub: Hub, name: str) -> tuple[bool, bool]:
    """(has a server, spawn or stop pending) for the user's default server."""
    response = hub.api("GET", f"users/{name}")
    if response.status_code != 200:
        raise BenchmarkError(f"{hub.name}: reading {name} gave {response.status_code}")
    model = response.json()
    default = model.get("servers", {}).get("", {})
    has_server = bool(model.get("server")) or bool(default.get("ready"))
    pending = bool(model.get("pending")) or bool(default.get("pending"))
    return has_server, pending


def lab_answers(hub: Hub, name: str) -> bool:
    try:
        response = hub.session.get(
            f"{hub.url}user/{name}/api/status", timeout=5, allow_redirects=False
        )
    except requests.RequestException:
        return False
    return response.status_code == 200


def check_spawn_accepted(hub: Hub, name: str, response: requests.Response) -> None:
    # 201: started within the hub's slow_spawn_timeout (10 s); 202: still starting.
    if response.status_code not in (201, 202):
        raise BenchmarkError(
            f"{hub.name}: spawning {name} gave {response.status_code}: {response.text[:200]}"
        )


def spawn_and_wait(hub: Hub, name: str) -> float:
    """Request a spawn; return the monotonic time at which the lab first answered."""
    # The hub holds the POST open until the server is up (up to 10 s). Sending it from a
    # second thread lets us poll the lab from the moment of the request, so the figure
    # does not depend on when the hub gets round to answering the POST.
    with ThreadPoolExecutor(max_workers=1) as poster:
        request = poster.submit(hub.api, "POST", f"users/{name}/server")
        deadline = time.monotonic() + SPAWN_TIMEOUT
        next_check = time.monotonic() + SPAWN_CHECK_SECONDS
        while time.monotonic() < deadline:
            if lab_answers(hub, name):
                answered = time.monotonic()
                check_spawn_accepted(hub, name, request.result())
                return answered
            if request.done():
                check_spawn_accepted(hub, name, request.result())
                if time.monotonic() >= next_check:
                    check_spawn_not_failed(hub, name)
                    next_check = time.monotonic() + SPAWN_CHECK_SECONDS
            time.sleep(POLL_SECONDS)
    raise BenchmarkError(f"{hub.name}: {name}'s lab did not answer within {SPAWN_TIMEOUT} s")


def check_spawn_not_failed(hub: Hub, name: str) -> None:
    """Once the spawn was accepted, a failure leaves neither a server nor a pending spawn."""
    hub.check_alive()
    has_server, pending = server_state(hub, name)
    if not has_server and not pending:
        raise BenchmarkError(f"{hub.name}: the spawn of {name} failed (see the hub log)")


def stop_and_wait(hub: Hub, name: str) -> None:
    response = hub.api("DELETE", f"users/{name}/server")
    if response.status_code not in (202, 204):
        raise BenchmarkError(f"{hub.name}: stopping {name} gave {response.status_code}")
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline:
        if server_state(hub, name) == (False, False):
            return
        time.sleep(0.1)
    raise BenchmarkError(f"{hub.name}: {name}'s server did not stop within {STOP_TIMEOUT} s")


def report_failure(benchmark: str, error: Exception, hubs: list[Hub]) -> None:
    """Say what broke, with the end of each hub's log to see why."""
    print(f"{benchmark} benchmark failed: {error}", file=sys.stderr)
    for hub in hubs:
        print(f"--- last lines of the {hub.name} hub log ---\n{log_tail(hub)}", file=sys.stderr)


def clean_up(root: Path, hubs: list[Hub], keep: bool = False) -> None:
    """Stop the hubs, then anything still running under root; remove root unless kept."""
    for hub in hubs:
        stop_hub(hub)
    # Belt and braces: nothing this run started may outlive it.
    end_processes(pids_running_under(root))
    for account in pwd.getpwall():
        if account.pw_name.startswith(ACCOUNT_PREFIX):
            subprocess.run(["userdel", account.pw_name], check=False, capture_output=True)
    if keep:
        print(f"kept {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)
