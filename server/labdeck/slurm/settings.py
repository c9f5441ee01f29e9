"""How labdeck reaches a Slurm cluster: one settings section every Slurm backend reads
(training jobs, sessions, Spark)."""

from traitlets import Float, List, Unicode
from traitlets.config import Configurable


class SlurmSettings(Configurable):
    """Where Slurm's commands are, which cluster and partition they reach, how often
    labdeck asks Slurm how its jobs are doing."""

    partition = Unicode(
        "",
        help="""Partition labdeck submits to (sbatch --partition). Empty: the cluster's
        default partition.""",
    ).tag(config=True)

    extra_sbatch_args = List(
        Unicode(),
        help="""More sbatch options for every submission, e.g. ["--account=ml",
        "--qos=normal"]. They come after labdeck's own, so they can override them.""",
    ).tag(config=True)

    slurm_conf = Unicode(
        None,
        allow_none=True,
        help="""SLURM_CONF for labdeck's Slurm commands: the slurm.conf that names the
        controller. None: the service's own environment decides (and without SLURM_CONF
        there, Slurm's default, /etc/slurm/slurm.conf).""",
    ).tag(config=True)

    bin_dir = Unicode(
        "",
        help="""Folder holding sbatch, squeue, scontrol, scancel and sinfo. Empty: they are
        looked up on PATH.""",
    ).tag(config=True)

    command_prefix = List(
        Unicode(),
        help="""Put before every Slurm command, e.g. ["sudo", "-E", "-u", "slurmsubmit"].
        sbatch passes its environment to the job (a job's settings travel there, never
        on a command line): the prefix must keep it.""",
    ).tag(config=True)

    poll_interval_seconds = Float(
        2.0,
        help="""How often labdeck asks Slurm for the state of a job it waits for or
        runs. Each ask is one squeue call.""",
    ).tag(config=True)

    command_timeout_seconds = Float(
        30.0,
        help="How long a Slurm command may take before Slurm is said not to answer.",
    ).tag(config=True)

    stop_timeout_seconds = Float(
        120.0,
        help="""How long a stop waits for Slurm to say a cancelled job has ended (its
        processes get SIGTERM, then SIGKILL after the cluster's KillWait).""",
    ).tag(config=True)
