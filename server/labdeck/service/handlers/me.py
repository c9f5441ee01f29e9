"""`api/v1/me`: who is asking, their runtimes, quota, usage, session and storage."""

from ...capabilities import CAPABILITIES
from ..grants import grant_json
from .base import APIHandler
from .serializers import QUOTA_SCHEMA, iso

USAGE_SCHEMA = {
    "type": "object",
    "properties": {
        "used_seconds": {"type": "integer"},
        "remaining_seconds": {"type": "integer", "nullable": True},
        "resets_at": {"type": "string", "format": "date-time", "nullable": True},
        "granted_seconds": {
            "type": "integer",
            "description": "Seconds an admin granted for today only (already counted "
            "in remaining_seconds)",
        },
    },
}

IDLE_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "The runtime's idle timeout (null: never stopped for idleness): the "
    "last activity the hub reported, when the session stops unless used, and the "
    "warning (null until it is given, and again once there is new activity).",
    "properties": {
        "idle_seconds": {"type": "integer"},
        "last_activity": {"type": "string", "format": "date-time", "nullable": True},
        "stops_at": {"type": "string", "format": "date-time"},
        "warning": {"type": "string", "nullable": True},
        "warned_at": {"type": "string", "format": "date-time", "nullable": True},
    },
}

ME_SCHEMA = {
    "type": "object",
    "required": ["name", "admin", "groups"],
    "properties": {
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": ["user", "service"]},
        "admin": {"type": "boolean"},
        "groups": {"type": "array", "items": {"type": "string"}},
        "profiles": {"type": "array", "items": {"type": "object"}},
        "quota": QUOTA_SCHEMA,
        "usage": {"type": "object", "additionalProperties": USAGE_SCHEMA},
        "session": {
            "type": "object",
            "nullable": True,
            "properties": {
                "id": {"type": "integer"},
                "profile": {"type": "string"},
                "started": {"type": "string", "format": "date-time"},
                "deadline": {"type": "string", "format": "date-time", "nullable": True},
                "deadline_reason": {"type": "string", "nullable": True},
                "gpus": {"type": "array", "items": {"type": "string"}},
                "idle": IDLE_SCHEMA,
            },
        },
        "queue": {
            "type": "object",
            "nullable": True,
            "properties": {"position": {"type": "integer"}},
        },
        "storage": {
            "type": "object",
            "properties": {
                "used_bytes": {"type": "integer"},
                "limit_bytes": {"type": "integer", "nullable": True},
            },
        },
        "warn_before_seconds": {"type": "array", "items": {"type": "integer"}},
        "grants_today": {
            "type": "array",
            "description": "Admins' one-off grants of time for today",
            "items": {
                "type": "object",
                "properties": {
                    "profile": {"type": "string"},
                    "seconds": {"type": "integer"},
                    "note": {"type": "string"},
                    "granted_by": {"type": "string"},
                },
            },
        },
        "resources": {
            "type": "object",
            "description": "Per capability (spark, ...): limits of its quota section, "
            "what the user's live resources use of them, and what is left. The daily "
            "core time (e.g. spark.daily_core_seconds) counts what was used in the "
            "current budget window; `deadline` is when the running resources will have "
            "spent it, `resets_at` when used core time starts to come back.",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "limits": {"type": "object"},
                    "in_use": {"type": "object"},
                    "left": {"type": "object"},
                    "deadline": {"type": "string", "format": "date-time", "nullable": True},
                    "resets_at": {"type": "string", "format": "date-time", "nullable": True},
                },
            },
        },
    },
}


class MeHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "Who am I",
            "description": "The caller's name, groups, runtimes, quota, usage of the "
            "current budget window, running session (with its deadline) and storage.",
            "responses": {"200": {"description": "The caller", "schema": ME_SCHEMA}},
        }
    }

    async def get(self):
        model = self.user
        name, kind = model["name"], model.get("kind", "user")
        groups = sorted(model.get("groups") or [])
        self.service.users.seen(name, kind)
        me = {"name": name, "kind": kind, "admin": self.is_admin, "groups": groups}
        if kind == "user":
            me.update(await self._lab(name, groups))
        self.write_json(me)

    async def _lab(self, name: str, groups: list[str]) -> dict:
        quota = self.quotas.quota_for(name, groups)
        usage = self.sessions.usage_for(name, quota)
        today = self.service.grants.today()
        granted = self.sessions.profile_time.granted(name)
        running = self.sessions.open_session(name)
        position = self.service.gpus.position(name)
        return {
            "profiles": [p.to_json() for p in self.service.profiles.all()],
            "quota": quota,
            "usage": {
                profile: {**u.to_json(), "granted_seconds": granted.get(profile, 0)}
                for profile, u in usage.items()
            },
            "session": running
            and {
                "id": running.id,
                "profile": running.profile,
                "started": iso(running.started),
                "deadline": iso(running.deadline),
                "deadline_reason": running.deadline_reason,
                "gpus": list(running.gpus),
                "idle": self._idle(running),
            },
            "queue": position and {"position": position},
            "storage": {
                "used_bytes": await self.service.storage.used_bytes(name),
                "limit_bytes": quota.get("storage_bytes"),
            },
            "warn_before_seconds": list(self.service.policy.warn_before_seconds),
            "grants_today": [
                {key: g[key] for key in ("profile", "seconds", "note", "granted_by")}
                for g in map(grant_json, self.service.grants.on_day(name, today))
            ],
            "resources": {
                capability.name: self._capability(capability, quota.get(capability.name) or {})
                for capability in CAPABILITIES
            },
        }

    def _idle(self, session) -> dict | None:
        status = self.service.idle.status(session)
        return status and status.to_json()

    def _capability(self, capability, limits: dict) -> dict:
        """What a capability's quota section leaves the user: limits, in use, left, and
        when its daily core time runs out and renews."""
        manager = self.service.managers[capability.name]
        name = self.user["name"]
        in_use = manager.in_use(name)
        budget = manager.budget.usage(name, manager.budget.limit(limits))
        return {
            "limits": {field: limits.get(field) for field in capability.quota.fields},
            "in_use": in_use,
            "left": capability.quota.left(limits, in_use),
            "deadline": iso(budget.deadline),
            "resets_at": iso(budget.resets_at),
        }


default_handlers = [("api/v1/me", MeHandler)]
