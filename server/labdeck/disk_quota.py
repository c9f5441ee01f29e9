"""Storage quotas held by the kernel: a disk quota per OS account on the homes' filesystem.

In isolation mode every file a user's code writes belongs to their own account, so the
kernel's user quotas (the Linux `quota` tools) can stop a notebook kernel, a terminal or
a Spark driver at the user's `storage_bytes` with "Disk quota exceeded", where the lab's
contents guard (labserver/storage.py) sees only saves through the file browser.

That needs a filesystem mounted with user quotas (e.g. ext4 with `usrquota`, set up with
`quotacheck -cum` and `quotaon -u`) and a kernel with quota support; elsewhere `support`
says why not, and only the contents guard applies. Limits count everything the account
owns on that filesystem, not just its home. Nothing here raises: a failure is logged.
"""

import asyncio
import logging
import math
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("quotaon", "setquota", "repquota")
BLOCK = 1024  # setquota and repquota count 1 KiB blocks
TIMEOUT_SECONDS = 20
PROBE_SECONDS = 300  # an admin who turns quotas on is noticed within this

ON, OFF, NONE, NO_TOOLS, NOT_ISOLATED = "on", "off", "none", "no tools", "not isolated"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mount:
    point: str
    source: str
    fstype: str


@dataclass(frozen=True)
class Support:
    """Whether the kernel holds each account to its limit on the homes' filesystem."""

    state: str  # ON, OFF (quota files there, not turned on), NONE, NO_TOOLS, NOT_ISOLATED
    detail: str
    mount: Mount | None = None

    @property
    def enforced(self) -> bool:
        return self.state == ON

    @property
    def records_limits(self) -> bool:
        """Limits can be written (and hold from the moment quotas are turned on)."""
        return self.state in (ON, OFF)

    def describe(self) -> str:
        """One line for `labdeck doctor` and the start log."""
        if self.enforced:
            return f"storage quotas enforced by the kernel on {self.detail}, for every process"
        return (
            f"storage quotas not enforced by the kernel: {self.detail}; "
            "only saves through the lab are checked"
        )

    @property
    def fix(self) -> str:
        point = self.mount.point if self.mount else "<mount>"
        turn_on = f"quotacheck -cum {point} && quotaon -u {point}"
        return {
            ON: "",
            OFF: turn_on,
            NONE: f"mount {point} with usrquota, then {turn_on}",
            NO_TOOLS: "apt-get install -y quota",
            NOT_ISOLATED: "run labdeck as root (isolation mode)",
        }[self.state]


@dataclass(frozen=True)
class DiskUsage:
    used_bytes: int
    soft_bytes: int  # 0: no limit
    hard_bytes: int


def _unescape(field: str) -> str:
    # mountinfo writes spaces, tabs, newlines and backslashes as \ooo
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def find_mount(path: Path) -> Mount:
    """The mount holding path (or, if path does not exist yet, its nearest parent)."""
    target = path
    while not target.exists() and target != target.parent:
        target = target.parent
    target = target.resolve()
    best = Mount("/", "", "")
    with open("/proc/self/mountinfo") as mounts:
        for line in mounts:
            before, _, after = line.partition(" - ")
            point = _unescape(before.split()[4])
            fstype, source = [*after.split(), "", ""][:2]
            # the longest mount point above target wins; a later mount on the same
            # point hides the earlier one
            if target.is_relative_to(point) and len(point) >= len(best.point):
                best = Mount(point, _unescape(source), fstype)
    return best


def _run(cmd: list[str]) -> tuple[int, str]:
    """(exit code, stdout + stderr); (-1, why) when it could not run or timed out."""
    try:
        result = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return -1, str(e)
    return result.returncode, (result.stdout + result.stderr).strip()


def probe(homes: Path, isolation: bool) -> Support:
    """Whether user quotas hold the accounts on the filesystem of homes (blocking)."""
    if not isolation:
        return Support(NOT_ISOLATED, "not isolation mode (all files belong to one account)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return Support(NO_TOOLS, f"no quota tools ({', '.join(missing)} not found)")
    mount = find_mount(homes)
    where = f"{mount.point} ({mount.fstype or 'unknown filesystem'})"
    code, output = _run(["quotaon", "-p", "-u", mount.point])
    if re.search(r"user quota on .* is on$", output, re.I | re.M):
        return Support(ON, where, mount)
    if re.search(r"user quota on .* is off$", output, re.I | re.M):
        return Support(OFF, f"user quotas are off on {where}", mount)
    if code == -1:
        return Support(NONE, f"quotaon failed: {output}", mount)
    return Support(NONE, f"no user quotas on {where}", mount)


def blocks(limit_bytes: int | None) -> int:
    """A storage quota as setquota's 1 KiB blocks; 0 means no limit there, so a quota of
    0 bytes becomes one block."""
    if limit_bytes is None:
        return 0
    return max(1, math.ceil(limit_bytes / BLOCK))


class DiskQuotas:
    """The homes' filesystem's user quotas, from the service or the hub (run as root)."""

    def __init__(self, homes: Path, isolation: bool, logger: logging.Logger | None = None):
        self.homes = homes
        self.isolation = isolation
        self.log = logger or log
        self._support: tuple[float, Support] | None = None

    async def support(self) -> Support:
        """Probed off the event loop, again after PROBE_SECONDS."""
        if self._support is None or time.monotonic() - self._support[0] > PROBE_SECONDS:
            found = await asyncio.to_thread(probe, self.homes, self.isolation)
            self._support = (time.monotonic(), found)
        return self._support[1]

    async def set_limit(self, account: str, limit_bytes: int | None) -> bool:
        """Hold account to limit_bytes (None: no limit). Soft and hard are the same: the
        quota is a line, not a grace period, as the contents guard treats it."""
        support = await self.support()
        if not support.records_limits:
            return False
        size = str(blocks(limit_bytes))
        cmd = ["setquota", "-u", account, size, size, "0", "0", support.mount.point]
        code, output = await asyncio.to_thread(_run, cmd)
        if code != 0:
            self.log.warning("could not set the disk quota of %s: %s", account, output)
            return False
        self.log.info(
            "Disk quota of %s on %s: %s KiB (0: none)", account, support.mount.point, size
        )
        return True

    async def usage(self, account: str) -> DiskUsage | None:
        """What the kernel counts for account and its limits; None if unknown."""
        support = await self.support()
        if not support.records_limits:
            return None
        try:
            uid = pwd.getpwnam(account).pw_uid
        except KeyError:
            return None
        cmd = ["repquota", "-u", "-n", "-v", "-O", "csv", support.mount.point]
        code, output = await asyncio.to_thread(_run, cmd)
        if code != 0:
            self.log.warning("could not read disk quotas on %s: %s", support.mount.point, output)
            return None
        # an account with no blocks and no limits has no row
        return parse_repquota(output, uid) or DiskUsage(0, 0, 0)


def parse_repquota(csv_text: str, uid: int) -> DiskUsage | None:
    """The row of `repquota -n -O csv` for uid (users are written #<uid>)."""
    for line in csv_text.splitlines():
        fields = line.split(",")
        if fields[0] == f"#{uid}" and len(fields) >= 6:
            used, soft, hard = (int(value) * BLOCK for value in fields[3:6])
            return DiskUsage(used, soft, hard)
    return None
