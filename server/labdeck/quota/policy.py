"""Quota policies: defaults, per-group policies and per-user overrides, merged per user.

What each section holds, and how it is checked, is in `sections`."""

import re
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from traitlets import Dict, Enum, Int, List, Unicode, default, validate
from traitlets.config import Configurable

from ..capabilities import quota_sections

HOUR = 3600
UTC_ZONE = ZoneInfo("UTC")
GB = 10**9

# SageMaker Studio Lab: CPU 4 h sessions, 8 h per 24 h; GPU 4 h sessions, 4 h per 24 h; 15 GB.
STUDIO_LAB_QUOTA = {
    "cpu": {"session_seconds": 4 * HOUR, "daily_seconds": 8 * HOUR},
    "gpu": {"session_seconds": 4 * HOUR, "daily_seconds": 4 * HOUR},
    "storage_bytes": 15 * GB,
}


def merge_generous(quotas: list[dict]) -> dict:
    """The most generous value of each field across quotas (a user in several groups)."""
    merged: dict = {}
    for quota in quotas:
        for key, value in quota.items():
            if isinstance(value, dict):
                target = merged.setdefault(key, {})
                for field, limit in value.items():
                    target[field] = max(target.get(field, limit), limit)
            else:
                merged[key] = max(merged.get(key, value), value)
    return merged


def apply_override(quota: dict, override: dict) -> dict:
    """quota with the fields override sets replaced (override values are never null here)."""
    result = {k: dict(v) if isinstance(v, dict) else v for k, v in quota.items()}
    for key, value in override.items():
        if isinstance(value, dict):
            result.setdefault(key, {}).update(value)
        else:
            result[key] = value
    return result


def merge_override(stored: dict, update: dict) -> dict:
    """A stored override after a partial update (null removes a field)."""
    result = {k: dict(v) if isinstance(v, dict) else v for k, v in stored.items()}
    for key, value in update.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            fields = result.setdefault(key, {})
            for field, limit in value.items():
                if limit is None:
                    fields.pop(field, None)
                else:
                    fields[field] = limit
            if not fields:
                result.pop(key)
        else:
            result[key] = value
    return result


@dataclass(frozen=True)
class ResetRule:
    """When daily budgets renew: a rolling 24 h window, or a fixed time of day."""

    mode: str  # "rolling" | "daily"
    at: time = time(0, 0)
    zone: ZoneInfo = UTC_ZONE


class QuotaPolicy(Configurable):
    """Time and storage quotas per runtime profile, for everyone, per group and per user."""

    default_quota = Dict(
        help="""Quota for every user: per profile `session_seconds` (longest session) and
        `daily_seconds` (budget per day), `storage_bytes`, and one section per capability
        (e.g. `spark`: clusters, workers, cores, memory_bytes over live clusters, and
        daily_core_seconds, the core time running clusters may use a day).
        Studio-Lab-like default: CPU 4 h sessions / 8 h a day, GPU 4 h / 4 h, 15 GB.
        """,
    ).tag(config=True)

    @default("default_quota")
    def _default_quota_default(self):
        quota = {k: dict(v) if isinstance(v, dict) else v for k, v in STUDIO_LAB_QUOTA.items()}
        quota.update({section.name: dict(section.default) for section in quota_sections()})
        return quota

    group_quotas = Dict(
        help="""Quotas per hub group, e.g. {"class-101": {"gpu": {"daily_seconds": 7200}}}.
        A group quota replaces the default field by field; a user in several groups gets
        the most generous value of each field. Per-user overrides (admin API) win.
        """,
    ).tag(config=True)

    reset = Enum(
        ["rolling", "daily"],
        "rolling",
        help="""How daily budgets renew: "rolling" counts the last 24 hours (as Studio Lab);
        "daily" renews everyone's budget at `reset_time` in `timezone` (for classes).
        """,
    ).tag(config=True)

    reset_time = Unicode(
        "00:00", help="Time of day (HH:MM) budgets renew when reset is 'daily'."
    ).tag(config=True)

    @validate("reset_time")
    def _check_reset_time(self, proposal):
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", proposal.value):
            raise ValueError(f"reset_time must be HH:MM, not {proposal.value!r}")
        return proposal.value

    timezone = Unicode("UTC", help="IANA time zone of reset_time, e.g. Europe/Paris.").tag(
        config=True
    )

    @validate("timezone")
    def _check_timezone(self, proposal):
        try:
            ZoneInfo(proposal.value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {proposal.value!r}") from e
        return proposal.value

    warn_before_seconds = List(
        Int(),
        [15 * 60, 5 * 60],
        help="""Warn users this many seconds before their session is stopped, or their
        resources (Spark clusters) are, when a daily budget runs out.""",
    ).tag(config=True)

    @property
    def reset_rule(self) -> ResetRule:
        hours, minutes = map(int, self.reset_time.split(":"))
        return ResetRule(self.reset, time(hours, minutes), ZoneInfo(self.timezone))

    def quota_for(self, groups: list[str], override: dict | None = None) -> dict:
        """The effective quota of a user in these groups, with their override applied."""
        quota = self.default_quota
        group_quotas = [self.group_quotas[g] for g in sorted(groups) if g in self.group_quotas]
        if group_quotas:
            quota = apply_override(quota, merge_generous(group_quotas))
        return apply_override(quota, override or {})
