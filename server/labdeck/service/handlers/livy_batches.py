"""`api/v1/clusters/{id}/livy/batches`: Apache Livy's batches, each one a training job
whose command is spark-submit (service/livy_batches.py)."""

from typing import TYPE_CHECKING

from .livy import LivyHandler, SessionLogHandler

if TYPE_CHECKING:
    from ..livy_batches import LivyBatches

BATCH_SCHEMA = {
    "type": "object",
    "description": "A Livy batch object (id, name, owner, proxyUser, state: starting, "
    "running, success, dead or killed; appId, appInfo with driverLogUrl and sparkUiUrl, "
    "log: its last lines; jobId: the training job that runs it).",
}
PAGING = [
    {"name": "from", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 0}},
]
CREATE_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {
            "type": "string",
            "description": "A .py or .jar file of your home: its path (absolute or "
            "relative to your home) or a local: URL.",
        },
        "proxyUser": {"type": "string", "description": "Only the cluster's owner."},
        "className": {"type": "string"},
        "args": {"type": "array", "items": {"type": "string"}},
        "jars": {"type": "array", "items": {"type": "string"}},
        "pyFiles": {"type": "array", "items": {"type": "string"}},
        "files": {"type": "array", "items": {"type": "string"}},
        "driverMemory": {"type": "string", "example": "1g"},
        "driverCores": {"type": "integer", "minimum": 1},
        "executorMemory": {"type": "string", "example": "512m"},
        "executorCores": {"type": "integer", "minimum": 1},
        "numExecutors": {"type": "integer", "minimum": 1},
        "archives": {"type": "array", "items": {"type": "string"}, "description": "Refused."},
        "queue": {"type": "string", "description": "Ignored (YARN's)."},
        "name": {"type": "string"},
        "conf": {"type": "object"},
    },
}


class BatchHandler(LivyHandler):
    @property
    def batches(self) -> "LivyBatches":
        return self.service.livy_batches

    def livy_base(self, cluster) -> str:
        return f"{self.service.base_url.rstrip('/')}/api/v1/clusters/{cluster.id}/livy"

    def batch_json(self, cluster, batch, job) -> dict:
        return self.batches.to_json(batch, job, self.ui_base(cluster), self.livy_base(cluster))


class BatchesHandler(BatchHandler):
    openapi = {
        "get": {
            "summary": "Livy: list batches",
            "description": "Paged as Livy's: `from` (default 0) and `size` (default 100). "
            "The list is under `sessions`, as Apache Livy sends it, and under `batches`.",
            "parameters": PAGING,
            "responses": {"200": {"description": "{from, total, sessions, batches}"}},
        },
        "post": {
            "summary": "Livy: submit a batch",
            "description": "spark-submit of a .py or .jar file of your home to the cluster, "
            "in client mode, as a training job of yours (it shows in your jobs, counts "
            "against your jobs quota and your profile's daily time). Only the cluster's "
            "owner may submit.",
            "request": CREATE_SCHEMA,
            "responses": {
                "201": {"description": "Starting", "schema": BATCH_SCHEMA},
                "400": {"description": "A request that cannot run as asked"},
                "403": {
                    "description": "Not the cluster's owner, another proxyUser, or over "
                    "your jobs quota, profile time or daily Spark core time"
                },
                "409": {"description": "The cluster is not running"},
            },
        },
    }

    async def get(self, id):
        cluster = self.cluster(id)
        start, size = self.page()
        every = self.batches.batches(cluster.id)
        shown = [self.batch_json(cluster, *pair) for pair in every[start : start + size]]
        self.write_json({"from": start, "total": len(every), "sessions": shown, "batches": shown})

    async def post(self, id):
        cluster = self.cluster(id)
        body = self.get_json_body()
        await self.clusters.budget.check_user(cluster.user)
        name = self.user["name"]
        quota = self.quotas.quota_for(name, self.user.get("groups") or [])
        batch, job = await self.batches.create(cluster, name, body, quota)
        self.set_header("Location", f"{self.request.path}/{batch.id}")
        self.write_json(self.batch_json(cluster, batch, job), 201)


class BatchObjectHandler(BatchHandler):
    openapi = {
        "get": {
            "summary": "Livy: one batch",
            "responses": {"200": {"description": "The batch", "schema": BATCH_SCHEMA}},
        },
        "delete": {
            "summary": "Livy: delete a batch",
            "description": "Kills a batch that runs (it stays listed, killed); removes one "
            "that has ended, with its job's record (its files stay in your home).",
            "responses": {"200": {"description": '{"msg": "deleted"}'}},
        },
    }

    async def get(self, id, bid):
        cluster = self.cluster(id)
        self.write_json(self.batch_json(cluster, *self.batches.get(cluster.id, bid)))

    async def delete(self, id, bid):
        cluster = self.cluster(id)
        batch, job = self.batches.get(cluster.id, bid)
        who = "its owner" if job.user == self.user["name"] else "an admin"
        await self.batches.delete(batch, job, who)
        self.write_json({"msg": "deleted"})


class BatchStateHandler(BatchHandler):
    openapi = {
        "get": {
            "summary": "Livy: batch state",
            "responses": {"200": {"description": "{id, state}"}},
        }
    }

    async def get(self, id, bid):
        batch, job = self.batches.get(self.cluster(id).id, bid)
        self.write_json({"id": batch.id, "state": self.batches.state(batch, job)})


class BatchLogHandler(BatchHandler):
    openapi = {
        "get": {
            "summary": "Livy: batch log",
            "description": "spark-submit's output, in lines (of its last MiB), then why it "
            "ended if it did not succeed. Query: size (default 100) lines from `from` "
            "(default: the last `size`).",
            "parameters": PAGING,
            "responses": {"200": {"description": "{id, from, total, log}"}},
        }
    }

    # the same checks of `from` and `size` as a session's log
    _int = SessionLogHandler._int

    async def get(self, id, bid):
        batch, job = self.batches.get(self.cluster(id).id, bid)
        lines = self.batches.log_lines(job)
        size = self._int("size", 100)
        given = self.get_argument("from", None)
        # Livy's: without `from`, the last `size` lines
        start = self._int("from", 0) if given is not None else max(0, len(lines) - size)
        self.write_json(
            {"id": batch.id, "from": start, "total": len(lines), "log": lines[start : start + size]}
        )


_BATCHES = "api/v1/clusters/{id}/livy/batches"
default_handlers = [
    (_BATCHES, BatchesHandler),
    (_BATCHES + "/{bid}", BatchObjectHandler),
    (_BATCHES + "/{bid}/state", BatchStateHandler),
    (_BATCHES + "/{bid}/log", BatchLogHandler),
]
