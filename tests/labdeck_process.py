"""Run a real `labdeck up` for tests and talk to it the way a client would."""

import grp
import itertools
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from labdeck.net import free_port

READY_TIMEOUT = 120
_runs = itertools.count(1)
LABDECK = str(Path(sys.executable).with_name("labdeck"))
# As root each hub user's code runs as an OS account of its own (the default): this
# run's accounts share a prefix, so they are told from the machine's and removed after.
ACCOUNT_PREFIX = f"ldt{secrets.token_hex(2)}-"


def traversable_dir(prefix: str = "labdeck-") -> Path:
    """A fresh folder every account may pass through (not list), as a state dir's parent
    must be; pytest's own tmp dirs are private to root."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o711)
    return path


def remove_accounts(prefix: str = ACCOUNT_PREFIX) -> None:
    for account in pwd.getpwall():
        if account.pw_name.startswith(prefix):
            subprocess.run(["userdel", account.pw_name], check=False, capture_output=True)
    # and the groups of courses left behind
    for group in grp.getgrall():
        if group.gr_name.startswith(prefix):
            subprocess.run(["groupdel", group.gr_name], check=False, capture_output=True)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def descendants(pid: int) -> set[int]:
    """All live processes below pid, from /proc (ppid links)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, timeout: float, interval: float = 0.1, message: str = "condition"):
    """Poll condition() until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Labdeck:
    """One `labdeck up` process on a free port with its own state dir."""

    def __init__(
        self,
        state_dir: Path,
        port: int | None = None,
        extra_args=(),
        config: str = "",
        user: str | None = None,
    ):
        """user= runs `labdeck up` as that OS account instead of root."""
        self.state_dir = state_dir
        self.user = user
        # admins' override files, as documented: loaded after labdeck's defaults
        config_d = state_dir / "jupyterhub_config.d"
        config_d.mkdir(parents=True, exist_ok=True)
        prefix = f"c.SystemAccountsMixin.system_user_prefix = {ACCOUNT_PREFIX!r}\n"
        (config_d / "accounts.py").write_text(prefix)
        if config:
            (config_d / "tests.py").write_text(config)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = list(extra_args)
        self.log_path = state_dir.parent / f"{state_dir.name}-up-{next(_runs)}.log"
        self.proc: subprocess.Popen | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> "Labdeck":
        log = open(self.log_path, "ab")
        self._log = log
        account = {}
        if self.user:
            owner = pwd.getpwnam(self.user)
            for path in (self.state_dir, *self.state_dir.rglob("*"), self.log_path):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            account = dict(user=owner.pw_uid, group=owner.pw_gid, extra_groups=[])
        self.proc = subprocess.Popen(
            [
                LABDECK,
                "up",
                *("--port", str(self.port), "--state-dir", str(self.state_dir)),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **account,
        )
        wait_for(self._ready, READY_TIMEOUT, 0.2, f"labdeck up on port {self.port}")
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"labdeck up exited with {self.proc.returncode}:\n{self.log()}")
        # `labdeck up` announces itself once the hub is routed: asking the public URL
        # earlier would only fill the proxy's log with 404s
        if "labdeck is running" not in self.log():
            return False
        try:
            response = requests.get(self.url + "/hub/api/", timeout=2)
        except requests.ConnectionError:
            return False
        return response.status_code == 200

    def stop(self, sig=signal.SIGINT, timeout: float = 90) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._log.close()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def processes(self) -> set[int]:
        return {self.proc.pid} | descendants(self.proc.pid)

    def crash_service(self, timeout: float = 60) -> None:
        """Kill the labdeck service (SIGKILL: no clean stop) and wait until the hub has
        started it again and it answers (it re-adopts what runs before it listens)."""
        service = next(
            pid
            for pid in self.processes()
            if b"labdeck.service" in Path(f"/proc/{pid}/cmdline").read_bytes()
        )
        os.kill(service, signal.SIGKILL)
        wait_for(
            lambda: self.service("GET", "/me").status_code == 200,
            timeout,
            0.3,
            "the service to come back",
        )

    # -- clients ----------------------------------------------------------------------------
    @property
    def admin_token(self) -> str:
        return (self.state_dir / "admin-token").read_text().strip()

    def request(self, method: str, path: str, token: str | None = "admin", **kwargs):
        headers = kwargs.pop("headers", {})
        if token == "admin":
            token = self.admin_token
        if token:
            headers["Authorization"] = f"token {token}"
        kwargs.setdefault("timeout", 60)
        return requests.request(
            method, self.url + path, headers=headers, allow_redirects=False, **kwargs
        )

    def hub_api(self, method: str, path: str, **kwargs):
        response = self.request(method, "/hub/api" + path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def create_user(self, name: str) -> str:
        """Create a hub user; return an API token for them."""
        self.hub_api("POST", f"/users/{name}")
        return self.hub_api("POST", f"/users/{name}/tokens", json={"note": "test"})["token"]

    def service(self, method: str, path: str, token: str | None = "admin", **kwargs):
        return self.request(method, SERVICE_API + path, token=token, **kwargs)

    def service_json(self, method: str, path: str, token="admin", expect: int = 200, **kwargs):
        """A service call that must answer `expect`; its JSON."""
        response = self.service(method, path, token=token, **kwargs)
        assert response.status_code == expect, response.text
        return response.json()

    def set_quota(self, name: str, quota: dict) -> dict:
        response = self.service("PUT", f"/admin/users/{name}/quota", json=quota)
        assert response.status_code == 200, response.text
        return response.json()

    def spawn(self, name: str, profile: str | None = None):
        """Ask the hub to start the user's server; the raw response."""
        body = {"profile": profile} if profile else None
        return self.request("POST", f"/hub/api/users/{name}/server", json=body)

    def wait_ready(self, name: str, timeout: float = 120) -> None:
        wait_for(
            lambda: self.hub_api("GET", f"/users/{name}")["servers"].get("", {}).get("ready"),
            timeout,
            0.2,
            f"{name}'s server to be ready",
        )

    def wait_stopped(self, name: str, timeout: float = 60) -> None:
        wait_for(
            lambda: not self.hub_api("GET", f"/users/{name}")["servers"],
            timeout,
            0.1,
            f"{name}'s server to stop",
        )

    def start_server(self, name: str, timeout: float = 120, profile: str | None = None) -> None:
        response = self.spawn(name, profile)
        assert response.status_code in (201, 202), response.text
        self.wait_ready(name, timeout)

    def stop_server(self, name: str, timeout: float = 60) -> None:
        response = self.request("DELETE", f"/hub/api/users/{name}/server")
        assert response.status_code in (202, 204), response.text
        self.wait_stopped(name, timeout)


SERVICE_API = "/services/labdeck/api/v1"


def server_environment(labdeck: "Labdeck", name: str) -> dict[str, str]:
    """The environment the user's running server process was given."""
    server = labdeck.hub_api("GET", f"/users/{name}")["servers"][""]
    raw = Path(f"/proc/{server['state']['pid']}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def run_labdeck(*args: str, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [LABDECK, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or os.environ.copy(),
        check=False,
    )
