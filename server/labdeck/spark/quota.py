"""The Spark section of a user's quota: totals over their live clusters, and the core
time their running clusters may use a day."""

from ..quota.sections import QuotaSection
from .spec import spark_memory

HOUR = 3600

SPARK_QUOTA = QuotaSection(
    name="spark",
    fields={
        "clusters": "clusters",
        "workers": "workers",
        "cores": "cores",
        "memory_bytes": "memory",
        "daily_core_seconds": "core time a day",
    },
    # 4 cores for 4 hours a day, as a lab session's CPU runtime
    default={
        "clusters": 2,
        "workers": 4,
        "cores": 4,
        "memory_bytes": 8 * 2**30,
        "daily_core_seconds": 4 * 4 * HOUR,
    },
    help="Totals over a user's live Spark clusters; `daily_core_seconds` is what their "
    "running clusters may use a day (a cluster of 4 cores running 1 h uses 14400).",
    formats={"memory_bytes": spark_memory},
    budget="daily_core_seconds",
)
