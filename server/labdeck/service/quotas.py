"""Effective quotas: the policy (defaults and groups) with each user's admin override.

The one place quotas are looked up and overrides are written; what a quota document may
hold is declared in `quota.sections`.
"""

from ..accounts import UserAccounts
from ..capabilities import quota_sections
from ..quota.policy import QuotaPolicy, merge_override
from ..quota.profiles import RuntimeProfiles
from ..quota.sections import STORAGE_FIELD, QuotaError, validate_quota_document
from .db import Database
from .errors import Invalid
from .models import QuotaOverride, utcnow


class Quotas:
    def __init__(
        self,
        db: Database,
        policy: QuotaPolicy,
        profiles: RuntimeProfiles,
        accounts: UserAccounts | None = None,
    ):
        self.db = db
        self.policy = policy
        self.profiles = profiles
        self.sections = quota_sections()
        self.accounts = accounts

    def override_for(self, user: str) -> dict:
        with self.db.session() as db:
            row = db.get(QuotaOverride, user)
            return dict(row.quota) if row else {}

    def quota_for(self, user: str, groups: list[str]) -> dict:
        return self.policy.quota_for(groups, self.override_for(user))

    def limits(self, user: str, groups: list[str], section: str) -> dict:
        """One section of the user's quota: a profile's or a capability's limits."""
        return dict(self.quota_for(user, groups).get(section) or {})

    def validate(self, document) -> dict:
        """A partial quota document, normalised; Invalid when it cannot be accepted."""
        try:
            return validate_quota_document(document, self.profiles.names(), self.sections)
        except QuotaError as e:
            raise Invalid(str(e), "invalid_quota") from e

    def update_override(self, user: str, update: dict, by: str) -> None:
        """Apply a validated partial update to the user's override (null removes a field)."""
        with self.db.session() as db:
            row = db.get(QuotaOverride, user)
            stored = merge_override(dict(row.quota) if row else {}, update)
            if row is None:
                db.add(QuotaOverride(user=user, quota=stored, updated_by=by))
            else:
                row.quota, row.updated, row.updated_by = stored, utcnow(), by

    async def apply_storage(self, user: str, groups: list[str]) -> None:
        """Put the user's storage quota on their OS account's disk quota, so the kernel
        holds kernels and terminals to it too (where it can: UserAccounts.limit_storage).
        Called when a session is granted and when an admin changes the quota."""
        if self.accounts is not None:
            limit = self.quota_for(user, groups).get(STORAGE_FIELD)
            await self.accounts.limit_storage(user, limit)
