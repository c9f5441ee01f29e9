"""The deployments section of a user's quota: how many endpoints they may have, and the
replica time their endpoints may run a day (serverless at zero runs none)."""

from ..quota.sections import QuotaSection

HOUR = 3600

DEPLOYMENTS_QUOTA = QuotaSection(
    name="deployments",
    fields={
        "concurrent": "deployments",
        "replica_seconds_daily": "replica time a day",
    },
    # two endpoints; one replica around the clock, or several for a class's hour
    default={"concurrent": 2, "replica_seconds_daily": 24 * HOUR},
    help="How many deployments a user may have at once, and the replica-seconds their "
    "endpoints may run a day (2 replicas for 1 h use 7200; serverless at zero uses none).",
    budget="replica_seconds_daily",
)
