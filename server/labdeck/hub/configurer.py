"""Pure functions that set JupyterHub config values for a labdeck hub.

hub_config/jupyterhub_config.py calls these; an admin overrides any value afterwards in
`<state-dir>/jupyterhub_config.d/*.py`.
"""

import json
import os
import secrets
import shutil
import sys
from pathlib import Path

from .settings import SERVICE_NAME, SHARED_CONFIG_ENV, SHARED_SECTIONS, HubSettings

LABDECK_ACCESS = f"access:services!service={SERVICE_NAME}"
# the spawner of each backend (`labdeck up --backend`)
SPAWNERS = {
    "local": "labdeck.hub.spawner.LabdeckSpawner",
    "slurm": "labdeck.hub.slurm_spawner.LabdeckSlurmSpawner",
}


def _installed_command(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else (shutil.which(name) or name)


def set_network(c, s: HubSettings) -> None:
    """Public proxy on ip:port; everything internal on loopback."""
    c.JupyterHub.ip = s.ip
    c.JupyterHub.port = s.port
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = s.hub_port
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.proxy_api_port}"
    # The PyPI port of configurable-http-proxy: installed by pip with everything else.
    c.ConfigurableHTTPProxy.command = [_installed_command("configurable-http-proxy")]
    c.ConfigurableHTTPProxy.should_start = True


def set_state(c, s: HubSettings) -> None:
    """Hub database and cookie secret live in the state dir, so a restart keeps users."""
    c.JupyterHub.db_url = s.state.hub_db_url
    c.JupyterHub.cookie_secret_file = str(s.state.cookie_secret)
    c.JupyterHub.pid_file = str(s.state.hub_dir / "jupyterhub.pid")
    c.JupyterHub.cleanup_servers = True
    c.JupyterHub.cleanup_proxy = True


def set_auth(c, s: HubSettings) -> None:
    c.JupyterHub.authenticator_class = "labdeck.hub.auth.LabdeckAuthenticator"
    c.Authenticator.admin_users = {s.admin}
    c.FirstUseAuthenticator.dbm_path = str(s.state.passwords)
    c.FirstUseAuthenticator.min_password_length = 8
    # hashes of one-time invite links, next to the passwords (both 0600)
    c.LabdeckAuthenticator.invites_path = str(s.state.hub_dir / "invites.json")
    # The admin token acts as the admin user everywhere. labdeck's hub (labdeck.hub.app,
    # what `labdeck up` runs) loads it; plain `jupyterhub -f` runs without it.
    c.LabdeckHub.admin_token_file = str(s.state.admin_token)
    c.LabdeckHub.admin_token_user = s.admin


def set_spawner(c, s: HubSettings) -> None:
    c.JupyterHub.spawner_class = SPAWNERS[s.backend]
    homes = str(s.state.homes / "{username}")
    c.LabdeckSpawner.home_dir_template = homes
    c.LabdeckSlurmSpawner.home_dir_template = homes
    # labdeck's sessions around whichever spawner runs the labs
    c.QuotaSpawnerMixin.service_url = s.service_url
    c.QuotaSpawnerMixin.instance = s.instance
    c.Spawner.default_url = "/lab"
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 60


def set_activity(c) -> None:
    """A lab's activity is what its server reports (running code, terminals, changes:
    labserver/activity.py), within a minute: labdeck's idle culler reads it in the hub
    (each server's `last_activity`), and a warning 5 minutes before an idle stop must not
    rest on activity 5 minutes old (the default report interval is 300 s)."""
    c.Spawner.environment.update({"JUPYTERHUB_ACTIVITY_INTERVAL": "60"})
    # Not the proxy's traffic: an open JupyterLab tab polls its server every few seconds,
    # so a lab left open overnight would never look idle.
    c.JupyterHub.last_activity_interval = 0


def set_backends(c, s: HubSettings) -> None:
    """On Slurm, training jobs and Spark clusters go there too (labs: set_spawner)."""
    if s.backend == "slurm":
        c.TrainingJobs.backend_class = "slurm"
        c.SparkClusters.backend_class = "slurm"
        if s.slurm_partition:
            c.SlurmSettings.partition = s.slurm_partition


def set_quotas(c, s: HubSettings) -> None:
    """Where quotas look: homes for storage, the GPU ids `labdeck up --gpus` gave."""
    c.StorageMeter.homes = str(s.state.homes)
    if s.gpus:
        c.GPUPool.ids = list(s.gpus)


def set_service(c, s: HubSettings) -> None:
    """The control-plane service, started and stopped by the hub."""
    # The spawner speaks to the service as the service itself: the one caller it
    # trusts to begin and end sessions. A new secret each start is enough.
    token = secrets.token_hex(32)
    c.QuotaSpawnerMixin.service_token = token
    c.JupyterHub.services = [
        {
            "name": SERVICE_NAME,
            "url": f"http://127.0.0.1:{s.service_port}",
            "api_token": token,
            "command": [sys.executable, "-m", "labdeck.service"],
            "environment": {
                "LABDECK_STATE_DIR": str(s.state.root),
                "LABDECK_INSTANCE": s.instance,
            },
            # no OAuth confirmation page: labdeck's hub trusts its own service
            # (LabdeckHub.own_services; JupyterHub's oauth_no_confirm warns each start)
            "display": True,
            "info": {"description": "labdeck control plane"},
        }
    ]
    c.JupyterHub.load_roles = labdeck_roles()


def labdeck_roles() -> list[dict]:
    """Who may call the labdeck service, and what the service may ask of the hub."""
    return [
        {
            "name": "user",
            "description": "Users can use their own servers and the labdeck service",
            "scopes": ["self", LABDECK_ACCESS],
        },
        {
            # The server's token is how the lab's server extension calls the service.
            "name": "server",
            "description": "User servers post activity and call the labdeck service",
            "scopes": ["users:activity!user", "access:servers!server", LABDECK_ACCESS],
        },
        {
            "name": f"{SERVICE_NAME}-service",
            "description": "What the labdeck service needs to manage sessions and users",
            "scopes": [
                "read:users",
                "read:groups",
                "read:servers",
                "servers",
                "users:activity",
                # courses: their hub groups, and the users a roster names
                "admin:groups",
                "admin:users",
                LABDECK_ACCESS,
            ],
            "services": [SERVICE_NAME],
        },
    ]


def apply_defaults(c, s: HubSettings) -> None:
    """Everything a labdeck hub needs, in one call."""
    set_network(c, s)
    set_state(c, s)
    set_auth(c, s)
    set_spawner(c, s)
    set_activity(c)
    set_backends(c, s)
    set_quotas(c, s)
    set_service(c, s)


def spawner_name(c) -> str:
    """The configured spawner's class name (its config section)."""
    return str(c.JupyterHub.get("spawner_class", SPAWNERS["local"])).rsplit(".", 1)[-1]


def spawner_config(c) -> dict:
    """The configured spawner's settings, as they apply to it: its mixins' sections, then
    its own (which wins)."""
    merged = {}
    for section in ("SystemAccountsMixin", "QuotaSpawnerMixin", spawner_name(c)):
        merged.update(c[section] if section in c else {})
    return merged


def warn_if_isolation_off(c) -> None:
    """As root, isolation is on unless an admin turned it off: say what that means."""
    if os.geteuid() == 0 and spawner_config(c).get("isolation", True) is False:
        print(
            f"labdeck: WARNING: c.{spawner_name(c)}.isolation = False: every user's code runs as "
            "root and can read every other user's files and labdeck's secrets",
            file=sys.stderr,
            flush=True,
        )


def share_with_service(c) -> None:
    """Hand the quota, profile and GPU settings to the service (call after overrides)."""
    shared = {name: dict(c[name]) for name in SHARED_SECTIONS if name in c}
    # user code the service starts runs as the accounts the spawner runs labs as
    spawner = spawner_config(c)
    shared["UserAccounts"] = {
        "homes": str(Path(spawner["home_dir_template"]).parent),
        **({"isolation": spawner["isolation"]} if "isolation" in spawner else {}),
        **({"prefix": spawner["system_user_prefix"]} if "system_user_prefix" in spawner else {}),
    }
    for service in c.JupyterHub.services:
        if service["name"] == SERVICE_NAME:
            service.setdefault("environment", {})[SHARED_CONFIG_ENV] = json.dumps(shared)
