"""The settings `labdeck up` hands to jupyterhub_config.py, through the environment.

Keeping them in the environment lets `jupyterhub -f hub_config/jupyterhub_config.py`
also work on its own (with the defaults below), as any JupyterHub config does.
"""

import os
from dataclasses import dataclass

from ..capabilities import CAPABILITIES
from ..paths import StateDir, default_state_dir

SERVICE_NAME = "labdeck"
# JSON of the config sections the service shares with the hub (quotas, profiles, GPUs).
SHARED_CONFIG_ENV = "LABDECK_SHARED_CONFIG"
SHARED_SECTIONS = (
    "QuotaPolicy",
    "RuntimeProfiles",
    "GPUPool",
    "StorageMeter",
    "IdleCuller",
    "SlurmSettings",
    # a backend's own settings (Spark on Slurm: its allocations' time limit)
    "SlurmSparkBackend",
    *(capability.settings_section for capability in CAPABILITIES),
)


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class HubSettings:
    """What a labdeck hub needs to know about where it runs."""

    state: StateDir
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_port: int = 10101
    admin: str = "admin"
    # Marks every process this hub starts, so `labdeck up` can account for all of them.
    instance: str = ""
    # GPU ids from `labdeck up --gpus`; empty means detect them with nvidia-smi
    gpus: tuple[str, ...] = ()
    # where sessions, training jobs and Spark clusters run: "local" or "slurm"
    backend: str = "local"
    # the Slurm partition to submit to (`--slurm-partition`); empty: Slurm's default
    slurm_partition: str = ""

    @property
    def service_url(self) -> str:
        """Where the hub, the proxy and user servers reach the control-plane service."""
        return f"http://127.0.0.1:{self.service_port}/services/{SERVICE_NAME}/"

    @property
    def public_url(self) -> str:
        return f"http://{self.ip}:{self.port}/"

    def to_env(self) -> dict[str, str]:
        return {
            "LABDECK_STATE_DIR": str(self.state.root),
            "LABDECK_IP": self.ip,
            "LABDECK_PORT": str(self.port),
            "LABDECK_HUB_PORT": str(self.hub_port),
            "LABDECK_PROXY_API_PORT": str(self.proxy_api_port),
            "LABDECK_SERVICE_PORT": str(self.service_port),
            "LABDECK_ADMIN": self.admin,
            "LABDECK_INSTANCE": self.instance,
            "LABDECK_GPUS": ",".join(self.gpus),
            "LABDECK_BACKEND": self.backend,
            "LABDECK_SLURM_PARTITION": self.slurm_partition,
        }

    @classmethod
    def from_env(cls) -> "HubSettings":
        return cls(
            state=StateDir(default_state_dir()),
            ip=os.environ.get("LABDECK_IP", "127.0.0.1"),
            port=_int_env("LABDECK_PORT", 8000),
            hub_port=_int_env("LABDECK_HUB_PORT", 8081),
            proxy_api_port=_int_env("LABDECK_PROXY_API_PORT", 8001),
            service_port=_int_env("LABDECK_SERVICE_PORT", 10101),
            admin=os.environ.get("LABDECK_ADMIN", "admin"),
            instance=os.environ.get("LABDECK_INSTANCE", ""),
            gpus=parse_gpus(os.environ.get("LABDECK_GPUS", "")),
            backend=os.environ.get("LABDECK_BACKEND") or "local",
            slurm_partition=os.environ.get("LABDECK_SLURM_PARTITION", ""),
        )


def parse_gpus(value: str) -> tuple[str, ...]:
    """'0,1' -> ('0', '1'); ids are kept as given (CUDA_VISIBLE_DEVICES values)."""
    return tuple(part.strip() for part in value.split(",") if part.strip())
