# labdeck on a Slurm cluster: copy into <state-dir>/jupyterhub_config.d/ on the login
# node that runs `labdeck up --backend slurm` (that switch already puts labs, training
# jobs and Spark clusters on Slurm); these are the site's own choices around it.
import os

# Which cluster: the slurm.conf that names the controller (default: SLURM_CONF, then
# /etc/slurm/slurm.conf), the partition and site options for every sbatch.
c.SlurmSettings.slurm_conf = os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")
c.SlurmSettings.partition = "interactive"
c.SlurmSettings.extra_sbatch_args = ["--account=teaching", "--qos=normal"]

# Labs on compute nodes listen on the node's address for the hub to reach them (on the
# login node's own node, labdeck uses loopback); the hub's API must be reachable from
# the nodes too.
c.Spawner.ip = "0.0.0.0"  # noqa: S104 - compute nodes: the hub reaches labs there
c.JupyterHub.hub_ip = "0.0.0.0"  # noqa: S104 - labs on the nodes call the hub API
c.JupyterHub.hub_connect_ip = os.environ.get("LABDECK_LOGIN_NODE", "login1.cluster")

# A lab may wait this long in Slurm's queue before its start gives up.
c.LabdeckSlurmSpawner.queue_timeout_seconds = 2 * 3600
# Slurm stops a lab this long after labdeck's own deadline, if labdeck could not.
c.LabdeckSlurmSpawner.time_margin_seconds = 300

# Runtimes as Slurm requests: cores -> --cpus-per-task, memory -> --mem,
# GPUs -> --gres=gpu:N (labdeck counts them for quotas and the queue; Slurm picks the
# devices, so c.GPUPool.ids lists one id per GPU the partition offers labdeck).
c.RuntimeProfiles.profiles = [
    {
        "name": "cpu",
        "display_name": "CPU",
        "description": "4 cores, 16 GB",
        "cpu_limit": 4,
        "mem_limit": "16G",
    },
    {
        "name": "gpu",
        "display_name": "GPU",
        "description": "1 GPU, 8 cores, 32 GB",
        "cpu_limit": 8,
        "mem_limit": "32G",
        "gpus": 1,
    },
]
c.GPUPool.ids = ["0", "1", "2", "3"]
