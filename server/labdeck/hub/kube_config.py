"""Pure functions that set JupyterHub config values for labdeck on Kubernetes.

hub_config/kubernetes/jupyterhub_config.py calls these. The zero-to-jupyterhub chart
runs that file from `hub.extraConfig`, after the chart's own configuration and its
`hub.config` pass-through, so these functions add to what the chart set (services,
roles) and leave alone what an admin set in `hub.config` (profiles, quotas).
"""

import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyterhub.utils import url_path_join

from ..capabilities import CAPABILITIES
from ..quota.policy import STUDIO_LAB_QUOTA
from .configurer import labdeck_roles
from .settings import SERVICE_NAME, SHARED_CONFIG_ENV, SHARED_SECTIONS

SPAWNER = "LabdeckKubeSpawner"
# The chart's hub listens on all interfaces at this port (hub_bind_url).
HUB_PORT = 8081
# What runs user code apart from labs. Their local backends would run it inside the hub's
# pod, next to the hub's secrets; none is allowed until they have Kubernetes backends.
NOT_ON_KUBERNETES = {
    "spark": {"clusters": 0},
    "jobs": {"concurrent": 0},
    "deployments": {"concurrent": 0},
}


def _config_file() -> Path:
    """hub_config/kubernetes/jupyterhub_config.py: inside the package, or the checkout's."""
    package = Path(__file__).parents[1]
    packaged = package / "hub_config" / "kubernetes" / "jupyterhub_config.py"
    return packaged if packaged.exists() else package.parents[1] / packaged.relative_to(package)


# what values.yaml's hub.extraConfig runs
CONFIG_FILE = _config_file()


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class KubeSettings:
    """Where labdeck runs in the cluster, from the hub pod's environment (hub.extraEnv)."""

    # the labdeck service runs in the hub's pod, behind the hub's Kubernetes Service
    service_port: int = 10101
    service_host: str = "hub"
    state_dir: str = "/srv/jupyterhub/labdeck"
    # the service's database; empty: SQLite in state_dir, lost with the hub's pod
    db_url: str = ""
    # GPUs labdeck hands out across the cluster's GPU nodes (the queue's size)
    gpus: int = 0

    @classmethod
    def from_env(cls) -> "KubeSettings":
        return cls(
            service_port=_int_env("LABDECK_SERVICE_PORT", cls.service_port),
            service_host=os.environ.get("LABDECK_SERVICE_HOST", cls.service_host),
            state_dir=os.environ.get("LABDECK_STATE_DIR", cls.state_dir),
            db_url=os.environ.get("LABDECK_DB_URL", ""),
            gpus=_int_env("LABDECK_CLUSTER_GPUS", 0),
        )


def _base_url(c) -> str:
    return c.JupyterHub.get("base_url", "/")


def service_prefix(c) -> str:
    return url_path_join(_base_url(c), f"services/{SERVICE_NAME}/")


def set_spawner(c, s: KubeSettings) -> None:
    """Labs are pods; the hub reaches the service on loopback, pods through the hub's
    Service."""
    c.JupyterHub.spawner_class = f"labdeck.hub.kube_spawner.{SPAWNER}"
    c[SPAWNER].service_url = f"http://127.0.0.1:{s.service_port}{service_prefix(c)}"
    c[SPAWNER].pod_service_url = f"http://{s.service_host}:{s.service_port}{service_prefix(c)}"
    c.Spawner.default_url = "/lab"


def set_gpus(c, s: KubeSettings) -> None:
    """labdeck's pool counts the cluster's GPUs; the device plugin picks the devices."""
    if "ids" not in c.GPUPool:
        c.GPUPool.ids = [f"k8s-{i}" for i in range(s.gpus)]


def set_quotas(c) -> None:
    """Studio-Lab-like session and storage quotas; no clusters, jobs or deployments."""
    if "default_quota" in c.QuotaPolicy:
        return  # the admin's, from hub.config
    quota = {k: dict(v) if isinstance(v, dict) else v for k, v in STUDIO_LAB_QUOTA.items()}
    for capability in CAPABILITIES:
        section = dict(capability.quota.default)
        section.update(NOT_ON_KUBERNETES.get(capability.quota.name, {}))
        quota[capability.quota.name] = section
    c.QuotaPolicy.default_quota = quota


def set_service(c, s: KubeSettings) -> None:
    """The labdeck service, started and stopped by the hub inside the hub's pod."""
    # The spawner speaks to the service as the service itself; a new secret each start
    # is enough, since the service starts with the hub.
    token = secrets.token_hex(32)
    c[SPAWNER].service_token = token
    hub_api = url_path_join(_base_url(c), "hub/api")
    environment = {
        "LABDECK_STATE_DIR": s.state_dir,
        # the hub is in the same pod: no round trip through its Service
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{HUB_PORT}{hub_api}",
    }
    if os.environ.get("PGPASSWORD"):
        # the chart's hub.db.password, for a service database on the same PostgreSQL
        environment["PGPASSWORD"] = os.environ["PGPASSWORD"]
    service = {
        "name": SERVICE_NAME,
        # how the proxy's pod reaches it; the hub's Service has this port (hub.service.extraPorts)
        "url": f"http://{s.service_host}:{s.service_port}",
        "api_token": token,
        "command": [sys.executable, "-m", "labdeck.service"],
        "environment": environment,
        "oauth_no_confirm": True,
        "display": True,
        "info": {"description": "labdeck control plane"},
    }
    c.JupyterHub.services = [*c.JupyterHub.get("services", []), service]
    c.JupyterHub.load_roles = [*c.JupyterHub.get("load_roles", []), *labdeck_roles()]


def share_with_service(c, s: KubeSettings) -> None:
    """Hand the quota, profile and GPU settings, and the service's own, to the service
    (call last, after everything that sets them)."""
    shared = {name: dict(c[name]) for name in SHARED_SECTIONS if name in c}
    service = {
        # other pods reach it through the hub's Service; NetworkPolicies say which
        "service_url": f"http://0.0.0.0:{s.service_port}",
    }
    if s.db_url:
        service["db_url"] = s.db_url
    shared["LabdeckService"] = service
    # no OS accounts in the hub's pod: each lab is a pod of its own
    shared["UserAccounts"] = {"isolation": False, "homes": str(Path(s.state_dir) / "homes")}
    for entry in c.JupyterHub.services:
        if entry["name"] == SERVICE_NAME:
            entry["environment"][SHARED_CONFIG_ENV] = json.dumps(shared)


def apply_kubernetes(c, s: KubeSettings) -> None:
    """Everything labdeck adds to a zero-to-jupyterhub hub, in one call."""
    set_spawner(c, s)
    set_gpus(c, s)
    set_quotas(c)
    set_service(c, s)
    share_with_service(c, s)
