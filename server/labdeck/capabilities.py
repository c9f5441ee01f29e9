"""What labdeck offers beyond lab sessions, each capability declared once.

A capability is a kind of resource users start (Spark clusters, training jobs, model
deployments). Each brings a backend, a quota section, a handler module and a lab
sidebar section; this registry is where the service, the quota policy and the hub's
shared configuration learn which capabilities there are.
"""

from dataclasses import dataclass

from .deployments.quota import DEPLOYMENTS_QUOTA
from .jobs.quota import JOBS_QUOTA
from .quota.sections import QuotaSection
from .spark.quota import SPARK_QUOTA


@dataclass(frozen=True)
class Capability:
    name: str  # "spark"
    ledger_kind: str  # kind of its ledger entries and resources: "cluster"
    quota: QuotaSection
    # traitlets section of its settings, set in the hub's config and shared with the service
    settings_section: str


SPARK = Capability("spark", "cluster", SPARK_QUOTA, "SparkClusters")
JOBS = Capability("jobs", "job", JOBS_QUOTA, "TrainingJobs")
DEPLOYMENTS = Capability("deployments", "deployment", DEPLOYMENTS_QUOTA, "ModelDeployments")

CAPABILITIES: tuple[Capability, ...] = (SPARK, JOBS, DEPLOYMENTS)


def quota_sections() -> tuple[QuotaSection, ...]:
    return tuple(c.quota for c in CAPABILITIES)
