"""`api/v1/admin/users/{name}/grants`: one-off time grants (hub admins only)."""

from ..errors import APIError
from ..grants import MAX_DAYS_AHEAD, MAX_NOTE, MAX_SECONDS, MIN_SECONDS, grant_json
from .base import APIHandler, whole_id

GRANT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "user": {"type": "string"},
        "profile": {"type": "string"},
        "seconds": {"type": "integer"},
        "date": {"type": "string", "format": "date", "description": "Its budget day"},
        "note": {"type": "string"},
        "granted_by": {"type": "string"},
        "granted_at": {"type": "string", "format": "date-time"},
    },
}

GRANT_REQUEST = {
    "type": "object",
    "required": ["profile", "seconds", "note"],
    "properties": {
        "profile": {"type": "string", "description": "A runtime with a daily limit"},
        "seconds": {"type": "integer", "minimum": MIN_SECONDS, "maximum": MAX_SECONDS},
        "note": {"type": "string", "maxLength": MAX_NOTE, "description": "Why"},
        "date": {
            "type": "string",
            "format": "date",
            "description": "The budget day it adds to (default: today); today or up to "
            f"{MAX_DAYS_AHEAD} days ahead",
        },
    },
}


class GrantsHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "A user's one-off time grants",
            "description": "Every grant of the user, newest first.",
            "responses": {
                "200": {
                    "description": "The grants",
                    "schema": {"type": "array", "items": GRANT_SCHEMA},
                }
            },
        },
        "post": {
            "summary": "Grant a user time for one day",
            "description": "Adds seconds to the profile's daily budget for one budget day "
            "only (today unless `date` says otherwise), recorded with who granted it and "
            "why. The quota itself does not change (PUT quota is for permanent changes). "
            "The deadlines of the user's running sessions and jobs move accordingly.",
            "request": GRANT_REQUEST,
            "responses": {
                "201": {"description": "The grant", "schema": GRANT_SCHEMA},
                "400": {"description": "Invalid grant; nothing stored"},
                "404": {"description": "No such hub user"},
            },
        },
    }

    admin_only = True

    async def get(self, name):
        self.write_json([grant_json(g) for g in self.service.grants.for_user(name)])

    async def post(self, name):
        body = self.get_json_body()
        if await self.service.hub.user(name) is None:
            raise APIError(404, "not_found", f"There is no hub user called {name!r}.")
        groups = await self.service.hub.groups_of(name)
        quota = self.quotas.quota_for(name, groups)
        request = self.service.grants.validate(body, quota, self.service.profiles.names())
        grant = self.service.grants.add(name, request, by=self.user["name"])
        self.sessions.reschedule_user(name, groups)
        self.set_header("Location", f"{self.request.path}/{grant.id}")
        self.write_json(grant_json(grant), status=201)


class GrantHandler(APIHandler):
    openapi = {
        "delete": {
            "summary": "Revoke a one-off time grant",
            "description": "The user's running sessions and jobs lose its time again.",
            "responses": {
                "204": {"description": "Revoked"},
                "404": {"description": "The user has no grant with that id"},
            },
        }
    }

    admin_only = True

    async def delete(self, name, grant_id):
        number = whole_id(grant_id)
        if number is None or not self.service.grants.revoke(name, number):
            raise APIError(404, "not_found", f"{name} has no time grant {grant_id}.")
        self.sessions.reschedule_user(name, await self.service.hub.groups_of(name))
        self.set_status(204)
        self.finish()


default_handlers = [
    ("api/v1/admin/users/{name}/grants", GrantsHandler),
    ("api/v1/admin/users/{name}/grants/{grant_id}", GrantHandler),
]
