"""Whose account user code runs as: each hub user's own (isolation), or the service's.

The hub's spawner runs labs as these accounts; the service runs the same user's Spark
clusters and Livy drivers (and next, jobs and model servers) as the same account, so a
statement sent through Livy can read no more than a notebook of that user.
"""

from pathlib import Path

from traitlets import Bool, Unicode
from traitlets.config import Configurable

from .hub.system_users import ensure_system_user, system_user_name
from .supervisor import Account


class UserAccounts(Configurable):
    """Shared by the hub and the service (the hub's isolation settings, handed over)."""

    isolation = Bool(
        False,
        help="""Run each user's code as an OS account of its own (labdeck-<name>), created
        on first use with a private home. Set from `LabdeckSpawner.isolation`.""",
    ).tag(config=True)

    prefix = Unicode(
        "labdeck-", help="Prefix of the accounts' names. Set from `LabdeckSpawner`."
    ).tag(config=True)

    homes = Unicode(help="Folder of the users' homes, <homes>/<hub user name>.").tag(config=True)

    def name_of(self, user: str) -> str:
        return system_user_name(self.prefix, user)

    async def account(self, user: str) -> Account | None:
        """The user's account (made if missing); None when everything runs as the
        service's own account."""
        if not self.isolation:
            return None
        await ensure_system_user(self.name_of(user), Path(self.homes) / user)
        return Account.named(self.name_of(user))
