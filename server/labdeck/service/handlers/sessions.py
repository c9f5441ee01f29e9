"""`api/v1/sessions`: lab sessions (the ledger's `session` entries); begin and end are
for the hub only. `api/v1/ledger`: every entry, of every kind."""

from ..errors import APIError
from ..ledger import KINDS
from ..models import LedgerEntry
from ..sessions import END_REASONS, Granted
from .base import APIHandler, whole_id
from .serializers import LEDGER_SCHEMA, SESSION_SCHEMA, ledger_json, session_json

MAX_WAIT_SECONDS = 30


class SessionsHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "List lab sessions",
            "description": "Your lab sessions, newest first; admins see everyone's "
            "(filter with ?user=). Clusters and other resources are in `ledger`.",
            "responses": {
                "200": {
                    "description": "Sessions",
                    "schema": {"type": "array", "items": SESSION_SCHEMA},
                }
            },
        },
        "post": {
            "summary": "Begin a session (hub only)",
            "description": "Checks the user's quota and GPUs and opens a ledger entry. "
            "202 while the user waits for a GPU; ask again to keep the place in the queue.",
            "request": {
                "type": "object",
                "required": ["user"],
                "properties": {
                    "user": {"type": "string"},
                    "server": {"type": "string", "description": "Server name; '' default"},
                    "profile": {"type": "string"},
                    "wait": {"type": "number", "maximum": MAX_WAIT_SECONDS},
                },
            },
            "responses": {
                "201": {"description": "Granted, with the session's environment"},
                "202": {"description": "Queued for a GPU, with the place in the queue"},
                "400": {"description": "Bad request or unknown profile"},
                "403": {"description": "Quota used up"},
            },
        },
    }

    def get(self):
        self.write_json([session_json(s) for s in self.sessions.history(self.whose())])

    async def post(self):
        self.require_hub()
        body = self.get_json_body()
        user, profile, wait = body.get("user"), body.get("profile"), body.get("wait", 0)
        server = body.get("server", "")
        if not isinstance(user, str) or not user:
            raise APIError(400, "invalid_request", "'user' must be a user name.")
        if not isinstance(server, str) or len(server) > 64:
            raise APIError(400, "invalid_request", "'server' must be a server name.")
        if profile is not None and not isinstance(profile, str):
            raise APIError(400, "invalid_request", "'profile' must be a string.")
        if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
            raise APIError(400, "invalid_request", "'wait' must be a number of seconds.")
        groups = await self.service.hub.groups_of(user)
        result = await self.sessions.begin(
            user, groups, profile, min(wait, MAX_WAIT_SECONDS), server
        )
        if isinstance(result, Granted):
            # before the hub starts the lab as the user's account
            await self.quotas.apply_storage(user, groups)
            # the shared folders of the user's courses, in the home the lab starts in
            await self.service.courses.session_started(user)
            self.set_header("Location", f"{self.request.path}/{result.session.id}")
            self.write_json(
                {**session_json(result.session), "environment": result.environment}, 201
            )
        else:
            self.write_json(
                {"queued": True, "position": result.position, "message": result.message}, 202
            )


def _session_or_404(handler: APIHandler, session_id: str) -> LedgerEntry:
    number = whole_id(session_id)
    session = handler.sessions.get(number) if number is not None else None
    if session is None or not handler.may_see(session.user):
        # someone else's session looks exactly like a missing one
        raise APIError(404, "not_found", f"There is no session {session_id}.")
    return session


class SessionHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "One session",
            "responses": {
                "200": {"description": "The session", "schema": SESSION_SCHEMA},
                "404": {"description": "No such session (or not yours)"},
            },
        }
    }

    def get(self, id):
        self.write_json(session_json(_session_or_404(self, id)))


class SessionEndHandler(APIHandler):
    openapi = {
        "post": {
            "summary": "Record that a session's server is gone (hub only)",
            "request": {
                "type": "object",
                "required": ["reason"],
                "properties": {"reason": {"type": "string", "enum": sorted(END_REASONS)}},
            },
            "responses": {"200": {"description": "The ended session", "schema": SESSION_SCHEMA}},
        }
    }

    def post(self, id):
        self.require_hub()
        session = _session_or_404(self, id)
        reason = self.get_json_body().get("reason")
        if reason not in END_REASONS:
            raise APIError(
                400,
                "invalid_reason",
                f"'reason' must be one of: {', '.join(sorted(END_REASONS))}.",
            )
        self.write_json(session_json(self.sessions.end(session.id, reason)))


class SessionStopHandler(APIHandler):
    openapi = {
        "post": {
            "summary": "Stop a running session",
            "description": "The owner stops their own session; an admin stops anyone's "
            "(recorded as stopped by an admin). Files are kept.",
            "responses": {
                "200": {"description": "The session", "schema": SESSION_SCHEMA},
                "409": {"description": "The session has already ended"},
            },
        }
    }

    async def post(self, id):
        session = _session_or_404(self, id)
        if session.ended is not None:
            raise APIError(409, "not_running", f"Session {id} has already ended.")
        reason = "user" if session.user == self.current_user["name"] else "admin"
        await self.sessions.stop(session.id, reason)
        self.write_json(session_json(self.sessions.get(session.id)))


class QueueHandler(APIHandler):
    openapi = {
        "delete": {
            "summary": "Leave the GPU queue (hub only)",
            "description": "Called when a spawn that waits for a GPU is cancelled.",
            "responses": {"204": {"description": "Left the queue"}},
        }
    }

    def delete(self, user):
        self.require_hub()
        self.sessions.leave_queue(user)
        self.set_status(204)
        self.finish()


class LedgerHandler(APIHandler):
    openapi = {
        "get": {
            "summary": "The usage ledger",
            "description": "Your entries of every kind (lab sessions, clusters, ...), newest "
            "first; admins see everyone's. Query: user= (admins), kind=.",
            "responses": {
                "200": {
                    "description": "Ledger entries",
                    "schema": {"type": "array", "items": LEDGER_SCHEMA},
                },
                "400": {"description": "Unknown kind"},
            },
        }
    }

    def get(self):
        kind = self.get_argument("kind", None)
        if kind is not None and kind not in KINDS:
            raise APIError(400, "invalid_kind", f"'kind' must be one of: {', '.join(KINDS)}.")
        self.write_json([ledger_json(e) for e in self.ledger.entries(self.whose(), kind)])


default_handlers = [
    ("api/v1/ledger", LedgerHandler),
    ("api/v1/sessions", SessionsHandler),
    ("api/v1/sessions/{id}", SessionHandler),
    ("api/v1/sessions/{id}/end", SessionEndHandler),
    ("api/v1/sessions/{id}/stop", SessionStopHandler),
    ("api/v1/gpu-queue/{user}", QueueHandler),
]
