"""The labdeck spawner: a local-process spawner that wires each lab to the labdeck service.

Later layers (profiles, quotas, GPU assignment) hook in here; the process management
itself stays JupyterHub's SimpleLocalProcessSpawner.
"""

import os
import shutil
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Bool, Unicode, default


class LabdeckSpawner(SimpleLocalProcessSpawner):
    """Starts a user's JupyterLab as a local process with a persistent home."""

    service_url = Unicode(
        help="""URL of the labdeck service as user servers reach it.

        The labdeck server extension in each lab forwards `/user/<name>/labdeck/api/...`
        there, authenticated with the server's own hub token.
        """,
    ).tag(config=True)

    instance = Unicode(
        "",
        help="Marker put in every user server's environment so `labdeck up` can find them.",
    ).tag(config=True)

    allow_root = Bool(
        help="Pass --allow-root to user servers; needed when the hub runs as root.",
    ).tag(config=True)

    @default("allow_root")
    def _allow_root_default(self):
        return os.geteuid() == 0

    @default("cmd")
    def _cmd_default(self):
        # The singleuser entry point installed beside this Python, not whatever PATH finds.
        local = Path(sys.executable).with_name("jupyterhub-singleuser")
        return [str(local) if local.exists() else shutil.which("jupyterhub-singleuser")]

    def get_args(self):
        args = super().get_args()
        if self.allow_root and "--allow-root" not in args:
            args.append("--allow-root")
        return args

    def get_env(self):
        env = super().get_env()
        if self.service_url:
            env["LABDECK_SERVICE_URL"] = self.service_url
        if self.instance:
            env["LABDECK_INSTANCE"] = self.instance
        return env
