"""Whose account user code runs as: each hub user's own (isolation), or the service's.

The hub's spawner runs labs as these accounts; the service runs the same user's Spark
clusters and Livy drivers (and next, jobs and model servers) as the same account, so a
statement sent through Livy can read no more than a notebook of that user.
"""

import os
import pwd
from functools import cached_property
from pathlib import Path

from traitlets import Bool, Unicode, default
from traitlets.config import LoggingConfigurable

from .disk_quota import DiskQuotas
from .hub.system_users import (
    SystemUserError,
    ensure_system_user,
    system_user_name,
    unreachable_parent,
)
from .supervisor import Account


def isolation_by_default() -> bool:
    """Per-user accounts whenever labdeck can make them (it runs as root); otherwise
    everything runs as the one account labdeck runs as."""
    return os.geteuid() == 0


def single_account_notice() -> str | None:
    """The one line `labdeck up` and `labdeck doctor` print when not running as root."""
    if isolation_by_default():
        return None
    user = pwd.getpwuid(os.geteuid()).pw_name
    return (
        f"running as {user}: every session runs as this account; "
        "start as root for per-user isolation"
    )


def unreachable_homes(homes: Path) -> str | None:
    """Why the accounts could not reach their homes in this folder (made 0711 by
    labdeck), if they could not."""
    blocked = unreachable_parent(homes)
    if blocked is None:
        return None
    return (
        f"{blocked} is private (no o+x): the users' accounts cannot reach their homes "
        f"under {homes}; use a state dir every account can pass through (the default as "
        "root is /var/lib/labdeck)"
    )


class UserAccounts(LoggingConfigurable):
    """Shared by the hub and the service (the hub's isolation settings, handed over)."""

    isolation = Bool(
        help="""Run each user's code as an OS account of its own (labdeck-<name>), created
        on first use with a private home. Set from `LabdeckSpawner.isolation`; on by
        default when running as root.""",
    ).tag(config=True)

    prefix = Unicode(
        "labdeck-", help="Prefix of the accounts' names. Set from `LabdeckSpawner`."
    ).tag(config=True)

    homes = Unicode(help="Folder of the users' homes, <homes>/<hub user name>.").tag(config=True)

    @default("isolation")
    def _isolation_default(self):
        return isolation_by_default()

    def name_of(self, user: str) -> str:
        return system_user_name(self.prefix, user)

    async def account(self, user: str) -> Account | None:
        """The user's account (made if missing); None when everything runs as the
        service's own account."""
        if not self.isolation:
            return None
        await ensure_system_user(self.name_of(user), Path(self.homes) / user)
        return Account.named(self.name_of(user))

    @cached_property
    def disk_quotas(self) -> DiskQuotas:
        return DiskQuotas(Path(self.homes), self.isolation, self.log)

    async def limit_storage(self, user: str, limit_bytes: int | None) -> None:
        """Hold the user's account to their storage quota with the kernel's disk quotas,
        where the homes' filesystem has them (disk_quota.py); the account is made now if
        missing, as a spawn would. Never fails: the lab's contents guard still applies."""
        if not (await self.disk_quotas.support()).records_limits:
            return
        try:
            account = await self.account(user)
        except (SystemUserError, OSError) as e:
            self.log.warning("No disk quota for %s: %s", user, e)
            return
        await self.disk_quotas.set_limit(account.name, limit_bytes)
