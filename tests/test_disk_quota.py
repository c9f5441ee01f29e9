"""Storage quotas held by the kernel: each user's account gets a disk quota on the homes'
filesystem, so kernels and terminals stop at it too, and labdeck says where it cannot.

The filesystem is a small ext4 image in /tmp, loop-mounted with usrquota and its quota
file made (quotacheck). Turning quotas on also needs a kernel with a quota format
(CONFIG_QFMT_V2): where quotaon refuses, limits are still written (they hold from the
moment quotas are turned on) and labdeck reports them as not enforced.
"""

import asyncio
import pwd
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from lab_support import run_in_kernel, run_in_terminal
from labdeck.disk_quota import (
    NO_TOOLS,
    NONE,
    NOT_ISOLATED,
    OFF,
    ON,
    DiskQuotas,
    blocks,
    find_mount,
    probe,
)
from labdeck.hub.system_users import ensure_system_user, system_user_name
from labdeck_process import (
    ACCOUNT_PREFIX,
    remove_tree,
    run_labdeck,
    traversable_dir,
)

GB = 10**9
DEFAULT_STORAGE = 15 * GB  # the default policy's storage_bytes


def sh(*cmd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(part) for part in cmd], capture_output=True, text=True, timeout=60, check=False
    )


@dataclass(frozen=True)
class QuotaFS:
    point: Path
    on: bool  # quotas turned on: the kernel enforces them
    why_off: str  # what quotaon said when it could not


@contextmanager
def ext4_with_user_quotas(size: str = "256M") -> Iterator[QuotaFS]:
    """An ext4 image mounted with usrquota; quotas on if this kernel can. Unmounted and
    removed however the block ends (lazily when something still holds the mount)."""
    root = traversable_dir("labdeck-diskquota-")
    image, point = root / "fs.img", root / "mnt"
    point.mkdir()
    mounted = on = False
    try:
        for cmd in (("truncate", "-s", size, image), ("mkfs.ext4", "-q", "-F", image)):
            assert sh(*cmd).returncode == 0, cmd
        result = sh("mount", "-o", "loop,usrquota", image, point)
        assert result.returncode == 0, result.stderr
        mounted = True
        point.chmod(0o711)  # every account passes through to its home, as in a state dir
        result = sh("quotacheck", "-cum", point)
        assert result.returncode == 0, result.stderr
        result = sh("quotaon", "-u", point)
        on = result.returncode == 0
        yield QuotaFS(point, on, (result.stdout + result.stderr).strip())
    finally:
        if on:
            sh("quotaoff", "-u", point)
        if mounted and sh("umount", point).returncode != 0:
            sh("umount", "-l", point)
        remove_tree(root)


@pytest.fixture
def quota_fs():
    with ext4_with_user_quotas() as fs:
        yield fs


def limits_kib(account: str, point: Path) -> tuple[int, int]:
    """(soft, hard) block limits of the account on point's device, as `quota` reports them."""
    result = sh("quota", "-v", "-w", "-u", account)
    device = find_mount(point).source
    for line in result.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == device:
            return int(fields[2]), int(fields[3])
    raise AssertionError(f"no quota of {account} on {device}:\n{result.stdout}{result.stderr}")


def require_enforcement(fs: QuotaFS) -> None:
    if not fs.on:
        # the other tests here cover everything up to the kernel, and what labdeck says
        # where it cannot enforce; this one needs a kernel built with a quota format
        pytest.skip(
            "needs a kernel that enforces disk quotas (built with CONFIG_QFMT_V2); "
            f"quotaon here says: {fs.why_off}"
        )


# -- reporting -------------------------------------------------------------------------------
def test_the_image_is_unmounted_and_removed_even_when_a_test_fails():
    with pytest.raises(RuntimeError), ext4_with_user_quotas() as fs:
        assert find_mount(fs.point).point == str(fs.point)
        raise RuntimeError("a failing test")
    assert find_mount(fs.point).point != str(fs.point)
    assert not fs.point.parent.exists()


def test_probe_says_why_the_kernel_does_not_enforce_storage_quotas(quota_fs, monkeypatch):
    homes = quota_fs.point / "state" / "homes"

    support = probe(homes, isolation=True)
    assert support.mount.point == str(quota_fs.point)
    if quota_fs.on:
        assert support.state == ON and support.enforced
        assert support.describe() == (
            f"storage quotas enforced by the kernel on {quota_fs.point} (ext4), for every process"
        )
    else:
        assert support.state == OFF and not support.enforced and support.records_limits
        assert f"user quotas are off on {quota_fs.point} (ext4)" in support.describe()
        assert support.fix == f"quotacheck -cum {quota_fs.point} && quotaon -u {quota_fs.point}"

    # one account for everyone: the kernel cannot tell users apart
    support = probe(homes, isolation=False)
    assert support.state == NOT_ISOLATED and not support.records_limits
    assert support.describe().startswith("storage quotas not enforced by the kernel: not isolation")

    # a filesystem mounted without quotas
    plain = traversable_dir("labdeck-noquota-")
    assert sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", plain).returncode == 0
    try:
        support = probe(plain / "homes", isolation=True)
    finally:
        sh("umount", plain)
        remove_tree(plain)
    assert support.state == NONE and not support.records_limits
    assert f"no user quotas on {plain} (tmpfs)" in support.describe()
    assert support.fix.startswith(f"mount {plain} with usrquota")

    # no quota tools
    monkeypatch.setenv("PATH", "/nowhere")
    support = probe(homes, isolation=True)
    assert support.state == NO_TOOLS
    assert "quotaon, setquota, repquota not found" in support.describe()
    assert support.fix == "apt-get install -y quota"


def test_doctor_says_whether_the_kernel_enforces_storage_quotas(quota_fs):
    state = quota_fs.point / "state"
    result = run_labdeck("doctor", "--state-dir", str(state), "--port", "0")
    support = probe(state / "homes", isolation=True)
    mark = "ok" if quota_fs.on else "optional"
    assert f"{mark:>8}  disk quota {support.describe()}" in result.stdout.splitlines()
    if not quota_fs.on:
        fix = f"fix: quotacheck -cum {quota_fs.point} && quotaon -u {quota_fs.point}"
        assert fix in result.stdout


# -- limits on an account ------------------------------------------------------------------
def test_limits_are_written_for_the_account(quota_fs):
    homes = quota_fs.point / "homes"
    homes.mkdir(mode=0o711)
    name = f"{ACCOUNT_PREFIX}dq{secrets.token_hex(2)}"
    quotas = DiskQuotas(homes, isolation=True)

    async def scenario():
        await ensure_system_user(name, homes / "dq")
        assert await quotas.set_limit(name, 300_000)
        first = limits_kib(name, quota_fs.point), await quotas.usage(name)
        assert await quotas.set_limit(name, 0)  # nothing at all, not "no limit"
        nothing = limits_kib(name, quota_fs.point)
        assert await quotas.set_limit(name, None)
        unlimited = limits_kib(name, quota_fs.point)
        assert not await quotas.set_limit("no-such-account-here", 1000)
        return first, nothing, unlimited

    (limits, usage), nothing, unlimited = asyncio.run(scenario())
    assert limits == (293, 293) == (blocks(300_000), blocks(300_000))
    assert (usage.soft_bytes, usage.hard_bytes) == (293 * 1024, 293 * 1024)
    assert nothing == (1, 1)
    assert unlimited == (0, 0)


# -- through a real labdeck ----------------------------------------------------------------
def test_the_accounts_disk_quota_follows_the_users_storage_quota(quota_fs, fresh):
    """Set when a session is granted and when an admin changes the quota; the start log
    says whether the kernel enforces it."""
    labdeck = fresh(state_dir=quota_fs.point / "state")
    line = "labdeck: " + probe(labdeck.state_dir / "homes", isolation=True).describe()
    assert line in labdeck.log().splitlines()

    name = "dora"
    labdeck.create_user(name)
    account = system_user_name(ACCOUNT_PREFIX, name)

    # the first session makes the account and gives it the default quota
    labdeck.start_server(name)
    assert limits_kib(account, quota_fs.point) == (blocks(DEFAULT_STORAGE),) * 2

    labdeck.set_quota(name, {"storage_bytes": 300_000})
    assert limits_kib(account, quota_fs.point) == (293, 293)

    # changed behind labdeck's back: the next session puts it back
    assert sh("setquota", "-u", account, 0, 0, 0, 0, quota_fs.point).returncode == 0
    labdeck.stop_server(name)
    labdeck.start_server(name)
    assert limits_kib(account, quota_fs.point) == (293, 293)

    # null: back to the default
    labdeck.set_quota(name, {"storage_bytes": None})
    assert limits_kib(account, quota_fs.point) == (blocks(DEFAULT_STORAGE),) * 2

    # an admin's quota for a user who never started a lab: their account is made for it
    labdeck.create_user("eli")
    labdeck.set_quota("eli", {"storage_bytes": 1_000_000})
    eli = system_user_name(ACCOUNT_PREFIX, "eli")
    assert pwd.getpwnam(eli).pw_dir == str(labdeck.state_dir / "homes" / "eli")
    assert limits_kib(eli, quota_fs.point) == (977, 977)


WRITE_A_MEGABYTE = """
import errno, os
try:
    with open("big.bin", "wb") as f:
        f.write(b"x" * 1_000_000)
        f.flush()
        os.fsync(f.fileno())
    print("written")
except OSError as e:
    print(errno.errorcode[e.errno])
"""


def test_kernels_and_terminals_stop_at_the_quota(quota_fs, fresh):
    require_enforcement(quota_fs)
    labdeck = fresh(state_dir=quota_fs.point / "state")
    name = "fay"
    token = labdeck.create_user(name)
    labdeck.start_server(name)
    labdeck.set_quota(name, {"storage_bytes": 300_000})

    assert run_in_kernel(labdeck, name, token, WRITE_A_MEGABYTE).strip() == "EDQUOT"
    out = run_in_terminal(labdeck, name, token, "dd if=/dev/zero of=dd.bin bs=1k count=1000")
    assert "Disk quota exceeded" in out

    # an admin raises the quota: the same writes go through
    labdeck.set_quota(name, {"storage_bytes": 5_000_000})
    assert run_in_kernel(labdeck, name, token, WRITE_A_MEGABYTE).strip() == "written"
    out = run_in_terminal(labdeck, name, token, "dd if=/dev/zero of=dd.bin bs=1k count=1000")
    assert "Disk quota exceeded" not in out and "1024000 bytes" in out
