# labdeck on Kubernetes: what the zero-to-jupyterhub chart runs from `hub.extraConfig`
# (see values.yaml beside this file), after the chart's own configuration.
#
# It only sets values, through the small functions in labdeck.hub.kube_config, from the
# hub pod's environment (hub.extraEnv in values.yaml):
#
#   LABDECK_DB_URL         the service's database, e.g. postgresql://jupyterhub@postgresql/labdeck
#                          (its password: the chart's hub.db.password, as PGPASSWORD)
#   LABDECK_CLUSTER_GPUS   how many GPUs labdeck hands out across the GPU nodes
#   LABDECK_SERVICE_HOST   the hub's Kubernetes Service name (default: hub)
#   LABDECK_SERVICE_PORT   the service's port on it (default: 10101)
#
# What it sets:
#   - spawner_class = LabdeckKubeSpawner: each lab a pod with its runtime profile's CPU,
#     memory and GPUs, and a home volume (PVC) the size of the user's storage quota;
#   - the labdeck service, started by the hub in the hub's pod, and its roles;
#   - the GPU pool's size and, unless hub.config sets them, the default quotas.
# Runtime profiles, quotas and GPU node selection are ordinary traitlets settings: put
# them under `hub.config` in values.yaml (RuntimeProfiles, QuotaPolicy,
# LabdeckKubeSpawner).
from labdeck.hub.kube_config import KubeSettings, apply_kubernetes

apply_kubernetes(c, KubeSettings.from_env())
