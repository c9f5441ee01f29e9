"""What each runtime profile offers a user now: time left today, the length a session
started now would get, whether it can start at all (and why not), and the GPU pool.

Computed with the very checks a session's begin runs (`ProfileTime.usage_for` and
`check`, the `GPUPool`), so the spawn page and a refusal never disagree.
"""

from dataclasses import dataclass
from datetime import datetime

from ..quota.profiles import Profile
from .errors import Refused
from .gpus import GPUPool
from .profile_time import ProfileTime


@dataclass(frozen=True)
class Runtime:
    profile: Profile
    available: bool
    reason: str | None  # the refusal a session's begin would give, when not available
    remaining_seconds: int | None  # None: no daily limit
    session_seconds: int | None  # None: a session started now would run without limit
    resets_at: datetime | None  # when used time starts coming back
    gpus: dict | None  # {total, in_use, queue} for a GPU profile

    def to_json(self) -> dict:
        return {
            "name": self.profile.name,
            "display_name": self.profile.display_name,
            "description": self.profile.description,
            "available": self.available,
            "reason": self.reason,
            "remaining_seconds": self.remaining_seconds,
            "session_seconds": self.session_seconds,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
            "gpus": self.gpus,
        }


def runnable(profile: Profile, pool: GPUPool) -> bool:
    """Whether the machine has the GPUs the profile needs (a session's begin refuses one
    that needs more GPUs than exist: it could never start)."""
    return profile.gpus <= len(pool.ids)


def gpu_pool(pool: GPUPool) -> dict:
    return {
        "total": len(pool.ids),
        "in_use": sum(1 for gpu in pool.ids if gpu in pool.owner),
        "queue": len(pool.queue),
    }


def runtimes_for(
    user: str, quota: dict, profiles: list[Profile], profile_time: ProfileTime, pool: GPUPool
) -> list[Runtime]:
    """The runtimes the user may choose, in the configured order; GPU runtimes only when
    the machine has enough GPUs."""
    usage = profile_time.usage_for(user, quota)
    found = []
    for profile in profiles:
        if not runnable(profile, pool):
            continue
        try:
            profile_time.check(user, profile, quota)
            reason = None
        except Refused as refused:
            reason = refused.message
        spent = usage[profile.name]
        limit = (quota.get(profile.name) or {}).get("session_seconds")
        # a session started now stops at its length limit or when today's time is spent
        lengths = [s for s in (limit, spent.remaining_seconds) if s is not None]
        found.append(
            Runtime(
                profile,
                available=reason is None,
                reason=reason,
                remaining_seconds=spent.remaining_seconds,
                session_seconds=min(lengths) if lengths else None,
                resets_at=spent.resets_at,
                gpus=gpu_pool(pool) if profile.gpus else None,
            )
        )
    return found
