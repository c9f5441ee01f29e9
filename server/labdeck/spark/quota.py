"""The Spark section of a user's quota: totals over their live clusters."""

from ..quota.sections import QuotaSection
from .spec import spark_memory

SPARK_QUOTA = QuotaSection(
    name="spark",
    fields={
        "clusters": "clusters",
        "workers": "workers",
        "cores": "cores",
        "memory_bytes": "memory",
    },
    default={"clusters": 2, "workers": 4, "cores": 4, "memory_bytes": 8 * 2**30},
    help="Totals over a user's live Spark clusters.",
    formats={"memory_bytes": spark_memory},
)
