"""`labdeck up`: run a labdeck hub on embedded defaults and stop everything on exit."""

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from .accounts import isolation_by_default, single_account_notice, unreachable_homes
from .disk_quota import probe
from .hub.auth import has_password, set_password
from .hub.settings import HubSettings
from .net import free_port, port_is_free
from .paths import StateDir, write_secret
from .processes import die_with_parent, pids_with_marker
from .supervisor import end_pids

HUB_READY_TIMEOUT = 120
HUB_STOP_TIMEOUT = 60


class UpError(Exception):
    """A reason `labdeck up` cannot run, worded for the person who typed it."""


def hub_config_path() -> Path:
    """jupyterhub_config.py: shipped inside the package, or the checkout's hub_config/."""
    packaged = Path(__file__).with_name("hub_config") / "jupyterhub_config.py"
    if packaged.exists():
        return packaged
    return Path(__file__).parents[2] / "hub_config" / "jupyterhub_config.py"


def first_start(state: StateDir, admin: str) -> list[str]:
    """Create the admin token and password if missing; return lines to tell the user."""
    notes = []
    if not state.admin_token.exists():
        write_secret(state.admin_token, secrets.token_hex(32))
        notes.append(f"Created an admin API token in {state.admin_token}")
    if not has_password(state.passwords, admin):
        password = secrets.token_urlsafe(12)
        set_password(state.passwords, admin, password)
        write_secret(state.admin_password, password)
        notes.append(f"Created a password for {admin!r} in {state.admin_password}")
    return notes


def make_settings(
    ip: str,
    port: int,
    state: StateDir,
    admin: str,
    gpus: tuple[str, ...] = (),
    backend: str = "local",
    slurm_partition: str = "",
) -> HubSettings:
    if not port_is_free(ip, port):
        raise UpError(f"port {port} on {ip} is already in use; choose another with --port")
    return HubSettings(
        state=state,
        ip=ip,
        port=port,
        hub_port=free_port(),
        proxy_api_port=free_port(),
        service_port=free_port(),
        admin=admin,
        instance=uuid.uuid4().hex,
        gpus=gpus,
        backend=backend,
        slurm_partition=slurm_partition,
    )


def _prepare_hub_process():
    # A shell that started us in the background may have set SIGINT to ignored;
    # the hub must get default handlers or its shutdown hangs.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # If labdeck up itself is killed, the hub is told to shut down (and stops the rest).
    die_with_parent(signal.SIGTERM)


def start_hub(settings: HubSettings, log_level: str, proxy_token: str) -> subprocess.Popen:
    # the proxy's API token: the hub hands it to the proxy, and we read its routes
    env = dict(os.environ, **settings.to_env(), CONFIGPROXY_AUTH_TOKEN=proxy_token)
    # labdeck's JupyterHub (labdeck.hub.app): jupyterhub's options, labdeck's stop order
    cmd = [
        sys.executable,
        "-m",
        "labdeck.hub",
        "-f",
        str(hub_config_path()),
        f"--log-level={log_level}",
    ]
    # Own session: a Ctrl-C reaches only us, and we stop the hub in order.
    return subprocess.Popen(
        cmd,
        cwd=settings.state.hub_dir,
        env=env,
        start_new_session=True,
        preexec_fn=_prepare_hub_process,
    )


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    """(status, body) of a GET; status 0 while nothing answers."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, b""
    except (urllib.error.URLError, OSError):
        return 0, b""


def _hub_routed(settings: HubSettings, proxy_token: str) -> bool:
    """The hub has added its own route to the proxy: the last step of its start."""
    status, body = _get(
        f"http://127.0.0.1:{settings.proxy_api_port}/api/routes",
        {"Authorization": f"token {proxy_token}"},
    )
    if status != 200:
        # not started yet; or a proxy an admin configured otherwise, whose table we may
        # not read: then the public URL alone says when the hub is up
        return status != 0
    return any(route.get("hub") for route in json.loads(body).values())


def wait_until_ready(
    hub: subprocess.Popen, settings: HubSettings, proxy_token: str, timeout: float
) -> bool:
    """Wait on addresses that answer as soon as they exist, in the order the hub starts
    them: its own health check, then its route in the proxy, then the public URL
    (asking the public URL first makes the proxy log a 404 per try)."""
    hub_health = f"http://127.0.0.1:{settings.hub_port}/hub/health"
    steps = [
        (lambda: _get(hub_health)[0] == 200, 0.2),
        (lambda: _hub_routed(settings, proxy_token), 0.5),
        (lambda: _get(settings.public_url + "hub/health")[0] == 200, 0.2),
    ]
    deadline = time.monotonic() + timeout
    for ready, interval in steps:
        while not ready():
            if hub.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(interval)
    return True


def stop_hub(hub: subprocess.Popen, instance: str) -> None:
    """Ask the hub to shut down (it stops proxy, service and user servers), then sweep."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(HUB_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()
    leftovers = pids_with_marker(instance)
    if leftovers:
        asyncio.run(end_pids(leftovers, grace=5))


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop()


def run(
    ip: str,
    port: int,
    state_dir: Path,
    admin: str,
    gpus: tuple[str, ...] = (),
    log_level: str = "INFO",
    backend: str = "local",
    slurm_partition: str = "",
) -> int:
    """Run until Ctrl-C or SIGTERM; return the exit code."""
    state = StateDir(state_dir.expanduser().resolve())
    try:
        state.create()
    except OSError as e:
        raise UpError(f"cannot create the state directory {state.root}: {e.strerror}") from e
    settings = make_settings(ip, port, state, admin, gpus, backend, slurm_partition)
    notes = first_start(state, admin)
    isolation = single_account_notice() or (
        isolation_by_default() and unreachable_homes(state.homes)
    )
    if isolation:
        print(f"labdeck: {isolation}", file=sys.stderr, flush=True)
    disk_quotas = probe(state.homes, isolation_by_default()).describe()
    print(f"labdeck: {disk_quotas}", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    hub = None
    try:
        proxy_token = secrets.token_hex(32)
        hub = start_hub(settings, log_level, proxy_token)
        if not wait_until_ready(hub, settings, proxy_token, HUB_READY_TIMEOUT):
            code = hub.poll()
            raise UpError(f"the hub did not start (exit code {code}); see the log above")
        _announce(settings, notes)
        return hub.wait()
    except _Stop:
        print("labdeck: stopping...", file=sys.stderr, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if hub is not None:
            # Ignore a second Ctrl-C while we clean up: leaving orphans is worse.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            stop_hub(hub, settings.instance)
            signal.signal(signal.SIGINT, previous[signal.SIGINT])


def _announce(settings: HubSettings, notes: list[str]) -> None:
    lines = [
        "",
        f"labdeck is running at {settings.public_url}",
        f"  log in as {settings.admin!r} with the password in {settings.state.admin_password}",
        f"  admin API token: {settings.state.admin_token}",
        "  add users with `labdeck invite NAME`: it prints a one-time link to choose a password",
        "  press Ctrl-C to stop",
        *(f"  {note}" for note in notes),
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
