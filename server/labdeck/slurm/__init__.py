"""Slurm, for every labdeck backend that runs on it (training jobs; sessions and Spark
clusters to come): its settings and its commands, asynchronously."""

from .commands import (
    ENDED_STATES,
    WAITING_STATES,
    JobDetails,
    QueuedJob,
    Slurm,
    SlurmError,
    SlurmUnavailable,
    parse_scontrol,
    resource_options,
    time_limit,
)
from .settings import SlurmSettings

__all__ = [
    "ENDED_STATES",
    "WAITING_STATES",
    "JobDetails",
    "QueuedJob",
    "Slurm",
    "SlurmError",
    "SlurmSettings",
    "SlurmUnavailable",
    "parse_scontrol",
    "resource_options",
    "time_limit",
]
