"""`api/v1/clusters/{id}/livy/...`: Apache Livy's REST API, as sparkmagic 0.23 uses it."""

from ..errors import APIError
from .base import APIHandler, whole_id
from .clusters import cluster_or_404

MAX_LOG_LINES = 10**6
# the Apache Livy release whose REST API the gateway follows
LIVY_VERSION = "0.8.0-incubating"
DEFAULT_PAGE = 100  # Livy's
STATEMENT_KINDS = ("pyspark", "sql", "spark")
SESSION_SCHEMA = {
    "type": "object",
    "description": "A Livy session object (id, name, appId, owner, state, kind, appInfo, log).",
}
STATEMENT_SCHEMA = {
    "type": "object",
    "description": "A Livy statement object (id, code, state, output, progress).",
}


class LivyHandler(APIHandler):
    """Livy handlers: the cluster must be the caller's (or they are an admin). Errors
    carry Livy's `msg` beside labdeck's `error` and `message`, for Livy's clients."""

    def error_body(self, code: str, message: str) -> dict:
        return {"msg": message, **super().error_body(code, message)}

    def cluster(self, id):
        return cluster_or_404(self, id)

    def ui_base(self, cluster) -> str:
        return f"{self.service.base_url.rstrip('/')}/clusters/{cluster.id}/ui"

    async def session_json(self, cluster, session) -> dict:
        livy = f"{self.service.base_url.rstrip('/')}/api/v1/clusters/{cluster.id}/livy"
        return await self.livy.to_json(session, self.ui_base(cluster), livy)

    def page(self) -> tuple[int, int]:
        """Livy's paging of lists: `from` (default 0) and `size` (default 100)."""
        found = []
        for name, fallback in (("from", 0), ("size", DEFAULT_PAGE)):
            text = self.get_argument(name, None)
            value = fallback if text in (None, "") else whole_id(text)
            if value is None:
                raise APIError(400, "invalid_paging", f"'{name}' must be a whole number.")
            found.append(value)
        return found[0], found[1]

    def session(self, cluster, sid):
        session = self.livy.get(cluster.id, sid)
        self.livy.heartbeat(session)  # any call about a session keeps it alive
        return session


class VersionHandler(LivyHandler):
    openapi = {
        "get": {
            "summary": "Livy: version",
            "description": "The Livy release whose REST API this gateway follows (Python "
            "Livy clients ask before they create sessions).",
            "responses": {"200": {"description": "{version, commitId, user, date, url, branch}"}},
        }
    }

    async def get(self, id):
        self.cluster(id)
        self.write_json(
            {
                "version": LIVY_VERSION,
                "commitId": "labdeck",
                "user": "labdeck",
                "date": "",
                "url": "https://livy.apache.org",
                "branch": "labdeck",
            }
        )


class SessionsHandler(LivyHandler):
    openapi = {
        "get": {
            "summary": "Livy: list sessions",
            "description": "Paged as Livy's: `from` (default 0) and `size` (default 100).",
            "parameters": [
                {"name": "from", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            ],
            "responses": {"200": {"description": "{from, total, sessions}"}},
        },
        "post": {
            "summary": "Livy: create a session",
            "description": "Starts a Spark driver with `spark` and `sc` bound to the "
            "cluster. Kind `pyspark` (SQL runs through it). Honors heartbeatTimeoutInSecond, "
            "conf, driverMemory, executorMemory, executorCores, numExecutors.",
            "request": {"type": "object", "properties": {"kind": {"type": "string"}}},
            "responses": {
                "201": {"description": "Starting", "schema": SESSION_SCHEMA},
                "400": {"description": "Unsupported kind or bad properties"},
                "403": {"description": "The owner's daily Spark core time is used up"},
            },
        },
    }

    async def get(self, id):
        cluster = self.cluster(id)
        start, size = self.page()
        every = self.livy.sessions(id)
        sessions = [await self.session_json(cluster, s) for s in every[start : start + size]]
        self.write_json({"from": start, "total": len(every), "sessions": sessions})

    async def post(self, id):
        cluster = self.cluster(id)
        await self.clusters.budget.check_user(cluster.user)
        session = self.livy.create(cluster, self.user["name"], self.get_json_body())
        self.set_header("Location", f"{self.request.path}/{session.id}")
        self.write_json(await self.session_json(cluster, session), 201)


class SessionHandler(LivyHandler):
    openapi = {
        "get": {
            "summary": "Livy: one session",
            "responses": {"200": {"description": "The session", "schema": SESSION_SCHEMA}},
        },
        "delete": {
            "summary": "Livy: delete a session",
            "responses": {"200": {"description": '{"msg": "deleted"}'}},
        },
    }

    async def get(self, id, sid):
        cluster = self.cluster(id)
        self.write_json(await self.session_json(cluster, self.session(cluster, sid)))

    async def delete(self, id, sid):
        cluster = self.cluster(id)
        await self.livy.delete(self.session(cluster, sid))
        self.write_json({"msg": "deleted"})


class SessionStateHandler(LivyHandler):
    openapi = {
        "get": {
            "summary": "Livy: session state",
            "responses": {"200": {"description": "{id, state}"}},
        }
    }

    async def get(self, id, sid):
        session = self.session(self.cluster(id), sid)
        self.write_json({"id": session.id, "state": await self.livy.state(session)})


class SessionLogHandler(LivyHandler):
    openapi = {
        "get": {
            "summary": "Livy: session log",
            "description": "Query: from (default 0), size (default 100).",
            "responses": {"200": {"description": "{id, from, total, log}"}},
        }
    }

    def get(self, id, sid):
        session = self.session(self.cluster(id), sid)
        lines = self.livy.log_lines(session)
        start = self._int("from", 0)
        size = self._int("size", 100)
        self.write_json(
            {
                "id": session.id,
                "from": start,
                "total": len(lines),
                "log": lines[start : start + size],
            }
        )

    def _int(self, name: str, default: int) -> int:
        value = whole_id(self.get_argument(name, str(default)))
        if value is None or value > MAX_LOG_LINES:
            raise APIError(
                400, "invalid_request", f"'{name}' must be a whole number up to {MAX_LOG_LINES}."
            )
        return value


class StatementsHandler(LivyHandler):
    openapi = {
        "get": {
            "summary": "Livy: list statements",
            "responses": {"200": {"description": "{total_statements, statements}"}},
        },
        "post": {
            "summary": "Livy: run a statement",
            "request": {
                "type": "object",
                "required": ["code"],
                "properties": {"code": {"type": "string"}, "kind": {"type": "string"}},
            },
            "responses": {
                "201": {"description": "Waiting", "schema": STATEMENT_SCHEMA},
                "403": {"description": "The owner's daily Spark core time is used up"},
            },
        },
    }

    async def get(self, id, sid):
        session = self.session(self.cluster(id), sid)
        self.write_json(await self.livy.driver(session, "GET", "/statements"))

    async def post(self, id, sid):
        cluster = self.cluster(id)
        await self.clusters.budget.check_user(cluster.user)
        session = self.session(cluster, sid)
        body = self.get_json_body()
        if not isinstance(body.get("code"), str):
            raise APIError(400, "invalid_request", "'code' must be the code to run, as text.")
        # Livy 0.5+: a statement may name its kind; else it is the session's
        kind = body.get("kind") or session.kind
        if kind not in STATEMENT_KINDS:
            raise APIError(
                400,
                "unsupported_kind",
                f"Statement kind {kind!r} is not available here; use one of "
                f"{', '.join(STATEMENT_KINDS)}.",
            )
        statement = await self.livy.driver(
            session, "POST", "/statements", {"code": body["code"], "kind": kind}
        )
        self.clusters.touch(cluster.id)
        self.set_header("Location", f"{self.request.path}/{statement['id']}")
        self.write_json(statement, 201)


class StatementHandler(LivyHandler):
    openapi = {
        "get": {
            "summary": "Livy: one statement",
            "description": "State, progress (0 to 1) and output (text/plain, "
            "application/json, image/png; or status error with evalue and traceback).",
            "responses": {"200": {"description": "The statement", "schema": STATEMENT_SCHEMA}},
        }
    }

    async def get(self, id, sid, stid):
        session = self.session(self.cluster(id), sid)
        self.write_json(await self.livy.driver(session, "GET", f"/statements/{int_id(stid)}"))


class StatementCancelHandler(LivyHandler):
    openapi = {
        "post": {
            "summary": "Livy: cancel a statement",
            "responses": {"200": {"description": '{"msg": "canceled"}'}},
        }
    }

    async def post(self, id, sid, stid):
        session = self.session(self.cluster(id), sid)
        path = f"/statements/{int_id(stid)}/cancel"
        self.write_json(await self.livy.driver(session, "POST", path, {}))


def int_id(value: str) -> int:
    number = whole_id(value)
    if number is None:
        raise APIError(404, "not_found", f"There is no statement {value}.")
    return number


_LIVY = "api/v1/clusters/{id}/livy/sessions"
default_handlers = [
    ("api/v1/clusters/{id}/livy/version", VersionHandler),
    (_LIVY, SessionsHandler),
    (_LIVY + "/{sid}", SessionHandler),
    (_LIVY + "/{sid}/state", SessionStateHandler),
    (_LIVY + "/{sid}/log", SessionLogHandler),
    (_LIVY + "/{sid}/statements", StatementsHandler),
    (_LIVY + "/{sid}/statements/{stid}", StatementHandler),
    (_LIVY + "/{sid}/statements/{stid}/cancel", StatementCancelHandler),
]
