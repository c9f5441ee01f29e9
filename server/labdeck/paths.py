"""Where labdeck keeps its state: one directory holds everything that must survive restarts."""

import os
from dataclasses import dataclass
from pathlib import Path

# As root every user's account must pass through the state dir to its home, which
# root's own home (0700) would not let it do.
ROOT_STATE_DIR = "/var/lib/labdeck"
USER_STATE_DIR = "~/.labdeck"
STATE_DIR_ENV = "LABDECK_STATE_DIR"


def default_state_dir() -> Path:
    fallback = ROOT_STATE_DIR if os.geteuid() == 0 else USER_STATE_DIR
    return Path(os.environ.get(STATE_DIR_ENV) or fallback).expanduser()


@dataclass(frozen=True)
class StateDir:
    """The layout of a labdeck state directory."""

    root: Path

    @property
    def hub_dir(self) -> Path:
        return self.root / "hub"

    @property
    def hub_db_url(self) -> str:
        return f"sqlite:///{self.hub_dir / 'jupyterhub.sqlite'}"

    @property
    def cookie_secret(self) -> Path:
        return self.hub_dir / "jupyterhub_cookie_secret"

    @property
    def passwords(self) -> Path:
        return self.hub_dir / "passwords.dbm"

    @property
    def homes(self) -> Path:
        return self.root / "homes"

    @property
    def service_dir(self) -> Path:
        return self.root / "service"

    @property
    def service_db_url(self) -> str:
        return f"sqlite:///{self.service_dir / 'labdeck.sqlite'}"

    @property
    def admin_token(self) -> Path:
        return self.root / "admin-token"

    @property
    def admin_password(self) -> Path:
        return self.root / "admin-password"

    @property
    def config_d(self) -> Path:
        """Extra jupyterhub_config.d/*.py files an admin drops in to override defaults."""
        return self.root / "jupyterhub_config.d"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def create(self) -> None:
        for path in (self.root, self.hub_dir, self.service_dir, self.logs, self.homes):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        # In isolation mode each OS account must reach its own home (and see no other):
        # the root and homes/ may be traversed, not listed; homes are 0700 each.
        for path in (self.root, self.homes):
            os.chmod(path, 0o711)  # noqa: S103 - traverse only, see above


def write_secret(path: Path, value: str) -> None:
    """Write a secret readable only by the owner, without a window where it is world-readable."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
