"""`api/v1/runtimes`: the runtimes a user may start a session on, with the time each
has left today (what the hub's spawn page shows)."""

from ..errors import APIError
from ..runtimes import runtimes_for
from .base import APIHandler

_SECONDS = {"type": "integer", "minimum": 0, "nullable": True}
RUNTIME_SCHEMA = {
    "type": "object",
    "required": ["name", "display_name", "available"],
    "properties": {
        "name": {"type": "string"},
        "display_name": {"type": "string"},
        "description": {"type": "string"},
        "available": {"type": "boolean", "description": "Whether a session can start now"},
        "reason": {
            "type": "string",
            "nullable": True,
            "description": "Why not, as a session's start would be refused",
        },
        "remaining_seconds": {**_SECONDS, "description": "Time left today; null: no limit"},
        "session_seconds": {
            **_SECONDS,
            "description": "How long a session started now would get: the sooner of the "
            "session limit and the time left today; null: no limit",
        },
        "resets_at": {
            "type": "string",
            "format": "date-time",
            "nullable": True,
            "description": "When used time starts coming back",
        },
        "gpus": {
            "type": "object",
            "nullable": True,
            "description": "For a GPU runtime: the machine's GPUs",
            "properties": {
                "total": {"type": "integer"},
                "in_use": {"type": "integer"},
                "queue": {"type": "integer", "description": "Spawns waiting for a GPU"},
            },
        },
    },
}


class RuntimesHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "Runtimes to choose from",
            "description": "For each runtime profile, in order: whether a session can "
            "start on it now (or the refusal it would get), the time left today and how "
            "long a session started now would run. GPU runtimes are left out when the "
            "machine has fewer GPUs than they need (none detected and none configured). "
            "Your own; admins and the hub ask for a user's with ?user=.",
            "parameters": [{"name": "user", "in": "query", "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "Runtimes",
                    "schema": {"type": "array", "items": RUNTIME_SCHEMA},
                },
                "400": {"description": "A service asked without ?user="},
                "404": {"description": "No such hub user"},
            },
        }
    }

    async def get(self):
        name = await self._whose_runtimes()
        quota = self.quotas.quota_for(name, await self.service.hub.groups_of(name))
        runtimes = runtimes_for(
            name,
            quota,
            self.service.profiles.all(),
            self.sessions.profile_time,
            self.service.gpus,
        )
        self.write_json([runtime.to_json() for runtime in runtimes])

    async def _whose_runtimes(self) -> str:
        """The caller's own; admins and the hub name a user with ?user=."""
        own = self.user["name"] if self.user.get("kind", "user") == "user" else None
        name = self.whose() or own
        if name is None:
            raise APIError(400, "user_required", "Say whose runtimes with ?user=<name>.")
        if name != own and await self.service.hub.user(name) is None:
            raise APIError(404, "not_found", f"There is no hub user called {name!r}.")
        return name


default_handlers = [("api/v1/runtimes", RuntimesHandler)]
