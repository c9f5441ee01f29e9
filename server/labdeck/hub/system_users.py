"""OS accounts for isolation mode: one per hub user, created on first spawn (as TLJH does)."""

import asyncio
import hashlib
import os
import pwd
import re
from pathlib import Path

MAX_NAME = 32  # useradd's limit
DIGEST = 12  # hex digits of sha256: far too many to search for a name that collides
LOOKS_HASHED = re.compile(rf".*-[0-9a-f]{{{DIGEST}}}$")


def system_user_name(prefix: str, hub_name: str) -> str:
    """A valid Linux user name for a hub user: prefix + sanitised name, hashed if long.

    A name that had to change (sanitised, truncated) gets a digest of the hub name; so
    does a hub name that looks like one of those, so no two hub names share an account.
    """
    clean = re.sub(r"[^a-z0-9_-]", "-", hub_name.lower())
    name = prefix + clean
    if len(name) > MAX_NAME or clean != hub_name or LOOKS_HASHED.fullmatch(clean):
        digest = hashlib.sha256(hub_name.encode()).hexdigest()[:DIGEST]
        name = f"{name[: MAX_NAME - DIGEST - 1]}-{digest}"
    return name


class SystemUserError(Exception):
    pass


# The hub (a first lab) and the service (a first cluster) may make one account at once;
# useradd then fails for one of them, on the name or on /etc/passwd's lock.
USERADD_ATTEMPTS = 3
USERADD_RETRY_SECONDS = 0.5


def unreachable_parent(path: Path) -> Path | None:
    """The first folder above path that other accounts cannot pass through, if any."""
    for parent in reversed(path.resolve().parents):
        # a folder still to be made is made traversable (umask 022, or 0711 by labdeck)
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            return parent
    return None


async def ensure_system_user(name: str, home: Path) -> pwd.struct_passwd:
    """Create the account if missing; give it its home, private (0700)."""
    blocked = unreachable_parent(home)
    if blocked is not None:
        raise SystemUserError(
            f"{blocked} is private (no o+x), so the account {name} cannot reach its home "
            f"{home}. Use a state dir every account can pass through, e.g. /srv/labdeck."
        )
    account = await _account_made(name, home)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, account.pw_uid, account.pw_gid)
    os.chmod(home, 0o700)
    return account


async def _account_made(name: str, home: Path) -> pwd.struct_passwd:
    """The account, made with useradd if missing (tried again if another made it meanwhile
    or held the lock)."""
    error = ""
    for attempt in range(USERADD_ATTEMPTS):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        if attempt:
            await asyncio.sleep(USERADD_RETRY_SECONDS)
        process = await asyncio.create_subprocess_exec(
            *("useradd", "--home-dir", str(home), "--no-create-home"),
            *("--shell", "/bin/bash", "--user-group", name),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await process.communicate()
        error = err.decode().strip()
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise SystemUserError(f"useradd {name} failed: {error}") from None
