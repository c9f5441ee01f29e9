"""The jobs section of a user's quota: how many of their jobs may run at once."""

from ..quota.sections import QuotaSection

JOBS_QUOTA = QuotaSection(
    name="jobs",
    fields={"concurrent": "jobs at once"},
    default={"concurrent": 2},
    help="How many of a user's training jobs may be pending or running at once.",
)
