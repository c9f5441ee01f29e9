"""`labdeck doctor`: check this machine can run labdeck, and say how to fix what is missing."""

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .accounts import isolation_by_default, single_account_notice, unreachable_homes
from .cgroups import Cgroups
from .disk_quota import probe
from .net import port_is_free
from .paths import StateDir


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _version_output(cmd: list[str]) -> str | None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (result.stdout + result.stderr).strip()


def check_java() -> Check:
    fix = "install Java 17 or newer: apt-get install -y openjdk-17-jre-headless"
    output = _version_output(["java", "-version"]) if shutil.which("java") else None
    if output is None:
        return Check("java", False, "java not found (needed for Spark clusters)", fix)
    match = re.search(r'version "(\d+)', output)
    major = int(match.group(1)) if match else 0
    if major < 17:
        return Check("java", False, f"Java {major or '?'} found, 17+ needed", fix)
    return Check("java", True, f"Java {major}")


def check_node() -> Check:
    fix = "install Node.js 20: apt-get install -y nodejs npm"
    output = _version_output(["node", "--version"]) if shutil.which("node") else None
    if output is None:
        return Check("node", False, "node not found (needed to build the lab extension)", fix)
    major = int(re.sub(r"[^\d.]", "", output).split(".")[0] or 0)
    if major < 18:
        return Check("node", False, f"node {output} found, 18+ needed", fix)
    return Check("node", True, f"node {output}")


def check_proxy() -> Check:
    local = Path(sys.executable).with_name("configurable-http-proxy")
    path = str(local) if local.exists() else shutil.which("configurable-http-proxy")
    if not path:
        return Check(
            "proxy",
            False,
            "configurable-http-proxy not found",
            "pip install configurable-http-proxy",
        )
    return Check("proxy", True, path)


def check_port(ip: str, port: int) -> Check:
    if port_is_free(ip, port):
        return Check("port", True, f"{ip}:{port} is free")
    return Check(
        "port",
        False,
        f"{ip}:{port} is in use",
        f"stop what listens on port {port}, or run labdeck up --port <another>",
    )


def check_state_dir(state: StateDir) -> Check:
    root = state.root
    existing = root if root.exists() else next(p for p in root.parents if p.exists())
    try:
        with tempfile.NamedTemporaryFile(dir=existing):
            pass
    except OSError as e:
        return Check(
            "state dir",
            False,
            f"{existing} is not writable ({e.strerror})",
            "choose another with --state-dir, or fix its permissions",
        )
    return Check("state dir", True, f"{root} is writable")


def check_chromium() -> Check:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        return Check(
            "chromium",
            False,
            "chromium not found (needed only to run the browser tests)",
            "apt-get install -y chromium chromium-driver",
            required=False,
        )
    return Check("chromium", True, path, required=False)


def check_limits(cgroups: Cgroups | None = None) -> Check:
    """Whether CPU and memory limits can be enforced (a writable cgroup v1 or v2)."""
    cgroups = cgroups or Cgroups()
    why_not = cgroups.available()
    version = "v2" if cgroups.unified else "v1"
    if why_not:
        return Check(
            "limits",
            False,
            f"CPU and memory limits are not enforced: {why_not}",
            "run labdeck as root on a host with writable cgroups",
            required=False,
        )
    return Check("limits", True, f"CPU, memory and process limits enforced (cgroup {version})")


def check_isolation(state: StateDir) -> Check:
    """Whether each user's code would run as an account of its own that reaches its home."""
    notice = single_account_notice()
    if notice:
        return Check("isolation", False, notice, "run labdeck as root", required=False)
    blocked = unreachable_homes(state.homes)
    if blocked:
        return Check("isolation", False, blocked, "choose another --state-dir")
    return Check("isolation", True, "each user's code runs as an OS account of its own")


def check_disk_quotas(state: StateDir) -> Check:
    """Whether the kernel holds each account to its storage quota on the homes' filesystem."""
    support = probe(state.homes, isolation_by_default())
    return Check("disk quota", support.enforced, support.describe(), support.fix, required=False)


def check_slurm() -> Check:
    """The controller answers `scontrol ping` (SLURM_CONF is honoured)."""
    from .slurm import Slurm, SlurmError, SlurmSettings

    try:
        answer = asyncio.run(Slurm(SlurmSettings()).ping())
    except SlurmError as e:
        fix = "start slurmctld (and slurmd on the nodes), or point SLURM_CONF at the cluster"
        return Check("slurm", False, str(e), fix)
    return Check("slurm", True, answer.splitlines()[0])


def munge_socket() -> str | None:
    """The munged socket Slurm's commands use: AuthInfo's socket= in slurm.conf, if set."""
    conf = Path(os.environ.get("SLURM_CONF") or "/etc/slurm/slurm.conf")
    try:
        text = conf.read_text(errors="replace")
    except OSError:
        return None
    match = re.search(r"^\s*AuthInfo\s*=.*?\bsocket=([^,\s]+)", text, re.MULTILINE | re.IGNORECASE)
    return match.group(1) if match else None


def check_munge() -> Check:
    """munge signs and checks a credential: Slurm's commands authenticate with it."""
    fix = "start munged with the cluster's key (apt-get install -y munge)"
    if not (shutil.which("munge") and shutil.which("unmunge")):
        return Check("munge", False, "munge is not installed", fix)
    socket_args = ["--socket", socket] if (socket := munge_socket()) else []
    try:
        signed = subprocess.run(
            ["munge", "-n", *socket_args], capture_output=True, timeout=10, check=True
        )
        checked = subprocess.run(
            ["unmunge", *socket_args],
            input=signed.stdout,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return Check("munge", False, f"munge does not answer ({e})", fix)
    if checked.returncode != 0:
        return Check("munge", False, checked.stderr.decode(errors="replace").strip(), fix)
    return Check("munge", True, "a credential was signed and checked")


def run_checks(ip: str, port: int, state: StateDir, backend: str = "local") -> list[Check]:
    checks = [
        check_java(),
        check_node(),
        check_proxy(),
        check_port(ip, port),
        check_state_dir(state),
        check_isolation(state),
        check_chromium(),
        check_limits(),
        check_disk_quotas(state),
    ]
    if backend == "slurm":
        checks += [check_munge(), check_slurm()]
    return checks


def report(checks: list[Check]) -> int:
    """Print one line per check (and its fix); 1 when a required check failed."""
    for check in checks:
        mark = "ok" if check.ok else ("MISSING" if check.required else "optional")
        print(f"{mark:>8}  {check.name:<10} {check.detail}")
        if not check.ok:
            print(f"{'':>8}  {'':<10} fix: {check.fix}")
    failed = [c for c in checks if c.required and not c.ok]
    if failed:
        print(f"\n{len(failed)} problem(s) to fix before labdeck can run.")
        return 1
    print("\nlabdeck can run here.")
    return 0
