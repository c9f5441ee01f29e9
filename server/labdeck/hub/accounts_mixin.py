"""Each hub user's code as an OS account of its own, for spawners that start it on this
machine or submit it as that account (the local and Slurm spawners)."""

from pathlib import Path

from jupyterhub.spawner import SpawnException
from traitlets import Bool, Unicode, default
from traitlets.config import Configurable

from ..accounts import isolation_by_default
from .system_users import SystemUserError, ensure_system_user, system_user_name


class SystemAccountsMixin(Configurable):
    """The account a user's server runs as, made on first spawn with a private home."""

    isolation = Bool(
        help="""Run each user's server as an OS account of its own, created on first spawn
        (home mode 0700), as The Littlest JupyterHub does. On by default when the hub runs
        as root (it needs root), off otherwise. Needs a Python every account can run
        (scripts/setup uses Debian's).""",
    ).tag(config=True)

    system_user_prefix = Unicode(
        "labdeck-",
        help="Prefix of the OS account names made in isolation mode (labdeck-alice).",
    ).tag(config=True)

    @default("isolation")
    def _isolation_default(self):
        return isolation_by_default()

    @property
    def system_user(self) -> str:
        return system_user_name(self.system_user_prefix, self.user.name)

    async def prepare_system_user(self) -> None:
        """Make the user's account and private home if they are not there yet."""
        try:
            await ensure_system_user(self.system_user, Path(self.home_dir))
        except SystemUserError as e:
            raise SpawnException(
                "Your account could not be prepared on this machine. Tell an admin.",
                log_message=str(e),
                reason="system_user",
                status_code=500,
            ) from e
