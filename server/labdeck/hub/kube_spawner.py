"""Labs as Kubernetes pods: KubeSpawner with labdeck's sessions around it.

The chosen runtime profile becomes the pod's resources (CPU and memory limits and
requests, `nvidia.com/gpu` for GPUs, scheduled on GPU nodes through a node selector and
tolerations), and the user's home is a PersistentVolumeClaim the size of their storage
quota. labdeck's GPU pool still counts GPUs, so the GPU queue and the ledger work as on
one machine; which devices a pod gets is the NVIDIA device plugin's choice, not labdeck's.
"""

import asyncio
import math

from kubespawner import KubeSpawner
from traitlets import Dict, Float, List, TraitError, Unicode, default, validate

from ..quota.policy import QuotaPolicy
from ..quota.profiles import Profile
from ..quota.sections import STORAGE_FIELD
from .quota_spawner import QuotaSpawnerMixin

# labdeck's own device ids; a pod with GPUs gets Kubernetes' ids instead
LABDECK_DEVICE_ENV = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES")


def storage_quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity: 15000000000 -> "15G", 2**34 -> "16Gi"."""
    for suffix, unit in (("Ti", 2**40), ("T", 10**12), ("Gi", 2**30), ("G", 10**9)):
        if size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def pod_end_reason(pod: dict | None) -> str:
    """Why a pod's lab ended, from the pod as the Kubernetes API reports it."""
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    for status in statuses:
        if status.get("name") != "notebook":
            continue
        for state in (status.get("state"), status.get("lastState")):
            terminated = (state or {}).get("terminated") or {}
            if terminated.get("reason") == "OOMKilled":
                return "out_of_memory"
    return "crash"


class LabdeckKubeSpawner(QuotaSpawnerMixin, KubeSpawner):
    """A user's JupyterLab as a Kubernetes pod, with labdeck's quotas and ledger."""

    pod_service_url = Unicode(
        "",
        help="""URL of the labdeck service as user pods reach it (the hub's Kubernetes
        Service, e.g. http://hub:10101/services/labdeck/), given to labs as
        LABDECK_SERVICE_URL. `service_url` stays what the hub itself uses (loopback when
        the service runs in the hub's pod). Default: `service_url`.""",
    ).tag(config=True)

    gpu_resource_name = Unicode(
        "nvidia.com/gpu",
        help="""Extended resource a GPU profile's pods ask for, one per GPU (what the
        cluster's device plugin advertises: nvidia.com/gpu, amd.com/gpu).""",
    ).tag(config=True)

    gpu_node_selector = Dict(
        help="""Node labels a GPU pod must run on, added to `node_selector`, e.g.
        {"nvidia.com/gpu.present": "true"} (NVIDIA GPU feature discovery) or
        {"cloud.google.com/gke-accelerator": "nvidia-l4"}. Empty: any node that has the
        GPU resource.""",
    ).tag(config=True)

    gpu_tolerations = List(
        help="""Tolerations added to GPU pods so they can run on tainted GPU nodes.
        Default: tolerate the usual `nvidia.com/gpu` NoSchedule taint (GKE and AKS put it
        on GPU node pools, so CPU labs stay off them).""",
    ).tag(config=True)

    @default("gpu_tolerations")
    def _gpu_tolerations_default(self):
        return [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]

    cpu_guarantee_fraction = Float(
        1.0,
        help="""Part of a profile's CPU limit requested (guaranteed) for its pod. 1 gives
        each lab all its cores; less lets more labs share a node than could run at full
        speed together.""",
    ).tag(config=True)

    mem_guarantee_fraction = Float(
        1.0,
        help="""Part of a profile's memory limit requested for its pod. Below 1, a node
        can run out of memory and evict labs under their limit.""",
    ).tag(config=True)

    @validate("cpu_guarantee_fraction", "mem_guarantee_fraction")
    def _check_fraction(self, proposal):
        if not 0 < proposal.value <= 1:
            raise TraitError(f"{proposal.trait.name} must be in (0, 1], not {proposal.value}")
        return proposal.value

    home_mount_path = Unicode(
        "/home/jovyan",
        help="Where the user's home volume is mounted in the pod (the image's home).",
    ).tag(config=True)

    @validate("profile_list")
    def _no_profile_list(self, proposal):
        if proposal.value:
            raise TraitError(
                "LabdeckKubeSpawner's runtimes are c.RuntimeProfiles.profiles (they carry "
                "the quotas); KubeSpawner.profile_list is not used with it"
            )
        return proposal.value

    # -- KubeSpawner defaults for a lab with a persistent home --------------------------------
    @default("storage_pvc_ensure")
    def _pvc_ensure_default(self):
        return True

    @default("storage_capacity")
    def _capacity_default(self):
        return "10Gi"  # for users whose storage quota is unlimited (null)

    @default("volumes")
    def _volumes_default(self):
        return {"home": {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}}

    @default("volume_mounts")
    def _volume_mounts_default(self):
        return {"home": {"name": "home", "mountPath": self.home_mount_path}}

    @default("delete_stopped_pods")
    def _keep_stopped_pods(self):
        # a pod says why its lab ended (OOMKilled) only while it exists; the hub deletes
        # it right after the ledger has the reason (stop, after poll found it dead)
        return False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # apply_profile changes these per start; each start begins from the configuration
        self._configured = {
            name: getattr(self, name)
            for name in (
                "cpu_limit",
                "cpu_guarantee",
                "mem_limit",
                "mem_guarantee",
                "extra_resource_limits",
                "extra_resource_guarantees",
                "node_selector",
                "tolerations",
                "storage_capacity",
            )
        }

    # -- what the mixin asks of a spawner ------------------------------------------------------
    def apply_profile(self, profile: Profile) -> None:
        configured = self._configured
        self.cpu_limit = profile.cpu_limit or configured["cpu_limit"]
        self.cpu_guarantee = (
            profile.cpu_limit * self.cpu_guarantee_fraction
            if profile.cpu_limit
            else configured["cpu_guarantee"]
        )
        if profile.mem_limit:
            self.mem_limit = profile.mem_limit  # "16G", parsed to bytes by the trait
            self.mem_guarantee = math.floor(self.mem_limit * self.mem_guarantee_fraction)
        else:
            self.mem_limit = configured["mem_limit"]
            self.mem_guarantee = configured["mem_guarantee"]

        gpu = self.gpu_resource_name
        limits = {k: v for k, v in configured["extra_resource_limits"].items() if k != gpu}
        requests = {k: v for k, v in configured["extra_resource_guarantees"].items() if k != gpu}
        node_selector = dict(configured["node_selector"])
        tolerations = configured["tolerations"]
        if profile.gpus:
            # extended resources cannot be overcommitted: requests equal limits
            limits[gpu] = requests[gpu] = str(profile.gpus)
            node_selector.update(self.gpu_node_selector)
            if isinstance(tolerations, dict):
                tolerations = {
                    **tolerations,
                    **{f"labdeck-gpu-{i}": t for i, t in enumerate(self.gpu_tolerations)},
                }
            else:
                tolerations = [*tolerations, *self.gpu_tolerations]
        self.extra_resource_limits, self.extra_resource_guarantees = limits, requests
        self.node_selector, self.tolerations = node_selector, tolerations

        quota = self.storage_quota_bytes()
        self.storage_capacity = storage_quantity(quota) if quota else configured["storage_capacity"]

    def storage_quota_bytes(self) -> int | None:
        """The user's `storage_bytes` under the quota policy (defaults and their groups),
        which the hub's configuration holds as the service's does. None: unlimited."""
        groups = [group.name for group in getattr(self.user, "groups", None) or []]
        return QuotaPolicy(parent=self).quota_for(groups).get(STORAGE_FIELD)

    async def launch_server(self):
        events = asyncio.ensure_future(self._forward_pod_events())
        try:
            return await super().launch_server()
        finally:
            events.cancel()

    async def _forward_pod_events(self) -> None:
        """Kubernetes' events for the pod (waiting for a GPU node, pulling the image) on
        the spawn page, after labdeck's own messages."""
        async for event in super(QuotaSpawnerMixin, self).progress():
            if event.get("message"):
                self.report_progress(60, event["message"])

    async def end_reason(self) -> str:
        reflector = self.pod_reflector  # started by poll, which found the lab gone
        pod = reflector.pods.get(f"{self.namespace}/{self.pod_name}") if reflector else None
        return pod_end_reason(pod)

    async def load_user_options(self):
        """Runtimes are labdeck's profiles (apply_profile), not KubeSpawner's profile_list."""

    def get_env(self):
        env = super().get_env()
        if self.pod_service_url:
            env["LABDECK_SERVICE_URL"] = self.pod_service_url
        if self.extra_resource_limits.get(self.gpu_resource_name):
            # the device plugin gives the pod its GPUs and says which itself;
            # labdeck's pool only counts them
            for name in LABDECK_DEVICE_ENV:
                env.pop(name, None)
        return env
